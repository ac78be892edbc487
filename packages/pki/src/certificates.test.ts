import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createCa, issueCertificate, spiffeIdOf } from './certificates';

const ID = 'spiffe://flash-sale.local/ns/local/sa/flash-sale-inventory';

describe('createCa and issueCertificate', () => {
  it('when a CA issues a workload certificate, then it chains to the CA, names the SPIFFE ID and is ECDSA P-256', async () => {
    const ca = await createCa({ commonName: 'test CA', days: 10 });
    const leaf = await issueCertificate({ ca, commonName: 'inventory', spiffeId: ID, days: 2 });

    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(spiffeIdOf(leaf.certPem)).toBe(ID);
    const lifetime = new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime();
    expect(lifetime).toBe(2 * 86_400_000);
  });

  it('when DNS names and addresses are given for a server, then the certificate is valid for them, names no SPIFFE ID and cannot be a client certificate', async () => {
    const ca = await createCa({ commonName: 'test CA', days: 10 });
    const leaf = await issueCertificate({
      ca,
      commonName: 'front-door',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      days: 2,
      usage: 'server',
    });

    const cert = new X509Certificate(leaf.certPem);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(spiffeIdOf(leaf.certPem)).toBeUndefined();
  });

  it('when notBefore is far enough back, then the certificate is already expired (for tests of refusals)', async () => {
    const ca = await createCa({ commonName: 'test CA', days: 10 });
    const leaf = await issueCertificate({
      ca,
      commonName: 'inventory',
      spiffeId: ID,
      days: 1,
      notBefore: new Date(Date.now() - 3 * 86_400_000),
    });

    expect(new Date(new X509Certificate(leaf.certPem).validTo).getTime()).toBeLessThan(Date.now());
  });

  it('when a certificate names nothing, then issuing refuses', async () => {
    const ca = await createCa({ commonName: 'test CA', days: 10 });

    await expect(issueCertificate({ ca, commonName: 'nobody', days: 2 })).rejects.toThrow(/SPIFFE ID, a DNS name/);
  });
});
