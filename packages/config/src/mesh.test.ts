import { loadConfig, z } from './index';
import { LOCAL_PKI_DIR, LOCAL_SPIFFE, meshEnv, spiffeIdFor, spiffeIdIn, uriNames, workloadOf } from './mesh';

describe('SPIFFE names', () => {
  it('when a workload is named, then its ID reads back as that workload, and a foreign ID as none', () => {
    const id = spiffeIdFor(LOCAL_SPIFFE, 'payment');

    expect(id).toBe('spiffe://flash-sale.local/ns/local/sa/flash-sale-payment');
    expect(workloadOf(LOCAL_SPIFFE, id)).toBe('payment');
    expect(workloadOf(LOCAL_SPIFFE, 'spiffe://flash-sale.local/ns/local/sa/flash-sale-billing')).toBeUndefined();
    expect(workloadOf(LOCAL_SPIFFE, 'spiffe://other.local/ns/local/sa/flash-sale-payment')).toBeUndefined();
    expect(workloadOf({ ...LOCAL_SPIFFE, namespace: 'shop' }, id)).toBeUndefined();
  });

  it('when Node quotes a value with a separator in it, then it is read back whole and cannot add a name', () => {
    expect(
      uriNames('DNS:a, URI:spiffe://td/ns/x/sa/y, URI:"http://h/a, URI:spiffe://x", IP Address:127.0.0.1'),
    ).toEqual(['spiffe://td/ns/x/sa/y', 'http://h/a, URI:spiffe://x']);
  });

  it('when a certificate names two SPIFFE IDs, then reading its ID fails', () => {
    expect(spiffeIdIn('URI:spiffe://a/ns/b/sa/c')).toBe('spiffe://a/ns/b/sa/c');
    expect(spiffeIdIn('DNS:localhost')).toBeUndefined();
    expect(() => spiffeIdIn('URI:spiffe://a/ns/b/sa/c, URI:spiffe://a/ns/b/sa/d')).toThrow(/2 SPIFFE IDs/);
  });
});

describe('meshEnv', () => {
  const schema = z.object(meshEnv('order'));

  it('when nothing is set, then mTLS is on with the local PKI, names and allow-list', () => {
    expect(loadConfig(schema, {})).toEqual({
      MTLS_MODE: 'on',
      TLS_DIR: `${LOCAL_PKI_DIR}/order`,
      SPIFFE_TRUST_DOMAIN: 'flash-sale.local',
      SPIFFE_NAMESPACE: 'local',
      SPIFFE_SA_PREFIX: 'flash-sale-',
      ACCESS_POLICY_FILE: expect.stringMatching(/deploy\/helm\/flash-sale\/files\/access-policy\.yaml$/),
    });
  });

  it('when a name has characters a SPIFFE ID or Kubernetes refuses, then start-up fails naming the variable', () => {
    expect(() =>
      loadConfig(schema, { MTLS_MODE: 'maybe', SPIFFE_NAMESPACE: 'Shop', SPIFFE_TRUST_DOMAIN: 'a/b' }),
    ).toThrow(/MTLS_MODE[\s\S]*SPIFFE_TRUST_DOMAIN[\s\S]*SPIFFE_NAMESPACE/);
  });
});
