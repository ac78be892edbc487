import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate, spiffeIdOf } from '../certificates';
import type { KubernetesApi, OwnerReference, Secret } from './api';
import { secretsCommand } from './command';
import { loadSecretsJobConfig as config } from './config';
import { parsePlan, type Plan } from './plan';
import { syncSecrets, type SyncEntry } from './sync';

const DAY = 86_400_000;
const id = (workload: string) => `spiffe://cluster.local/ns/shop/sa/fs-${workload}`;
const PLAN: Plan = {
  namespace: 'shop',
  labels: { 'app.kubernetes.io/instance': 'fs' },
  ca: { secret: 'fs-ca', commonName: 'fs mesh CA', days: 3650 },
  days: 365,
  renewDays: 30,
  certificates: [
    { secret: 'fs-inventory-tls', commonName: 'inventory', spiffeId: id('inventory') },
    { secret: 'fs-payment-tls', commonName: 'payment', spiffeId: id('payment') },
    { secret: 'fs-front-door-tls', commonName: 'fs-gateway', dnsNames: ['fs-gateway', 'fs-gateway.shop.svc'] },
  ],
};

/** Secrets in memory, with the API server's resourceVersion check; counts the writes. */
class FakeSecrets implements KubernetesApi {
  readonly store = new Map<string, Secret>();
  /** ConfigMaps that exist, by name: their uid. */
  readonly configMaps = new Map<string, string>();
  writes = 0;
  private version = 0;

  async getSecret(name: string) {
    const secret = this.store.get(name);
    return secret && structuredClone(secret);
  }
  async ownerReference(kind: 'ConfigMap', name: string): Promise<OwnerReference | undefined> {
    const uid = this.configMaps.get(name);
    return uid ? { apiVersion: 'v1', kind, name, uid } : undefined;
  }
  async createSecret(secret: Secret) {
    if (this.store.has(secret.metadata.name)) throw new Error('409 already exists');
    this.put(secret);
  }
  async replaceSecret(secret: Secret) {
    const current = this.store.get(secret.metadata.name);
    if (!current || current.metadata.resourceVersion !== secret.metadata.resourceVersion)
      throw new Error('409 conflict');
    if (current.type !== secret.type) throw new Error('422 type is immutable');
    this.put(secret);
  }
  async deleteSecret(name: string) {
    return this.store.delete(name);
  }
  text(name: string, key: string) {
    const value = this.store.get(name)?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }
  private put(secret: Secret) {
    this.writes += 1;
    this.version += 1;
    this.store.set(secret.metadata.name, {
      ...structuredClone(secret),
      metadata: { ...structuredClone(secret.metadata), resourceVersion: String(this.version) },
    });
  }
}

const actions = (entries: SyncEntry[]) => entries.map((entry) => `${entry.secret} ${entry.action}`);
const cert = (api: FakeSecrets, name: string) => new X509Certificate(api.text(name, 'tls.crt')!);

describe('syncSecrets', () => {
  it('when the namespace has none, then it creates the CA and every certificate as kubernetes.io/tls Secrets', async () => {
    const api = new FakeSecrets();
    const entries = await syncSecrets(api, PLAN);

    expect(actions(entries)).toEqual([
      'fs-ca issued',
      'fs-inventory-tls issued',
      'fs-payment-tls issued',
      'fs-front-door-tls issued',
    ]);
    const ca = cert(api, 'fs-ca');
    expect(ca.ca).toBe(true);
    for (const [secret, workload] of [
      ['fs-inventory-tls', 'inventory'],
      ['fs-payment-tls', 'payment'],
    ] as const) {
      expect(api.store.get(secret)?.type).toBe('kubernetes.io/tls');
      expect(api.store.get(secret)?.metadata.labels).toEqual(PLAN.labels);
      expect(cert(api, secret).verify(ca.publicKey)).toBe(true);
      expect(spiffeIdOf(api.text(secret, 'tls.crt')!)).toBe(id(workload));
      expect(api.text(secret, 'ca.crt')).toBe(api.text('fs-ca', 'tls.crt'));
      expect(api.text(secret, 'tls.key')).toMatch(/BEGIN PRIVATE KEY/);
    }
    expect(cert(api, 'fs-inventory-tls').keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const door = cert(api, 'fs-front-door-tls');
    expect(door.checkHost('fs-gateway.shop.svc')).toBe('fs-gateway.shop.svc');
    expect(spiffeIdOf(door.toString())).toBeUndefined();
    // A server's certificate only: it cannot be presented as a client of the mesh.
    expect(door.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('when run again (an upgrade), then it keeps everything and writes nothing', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    const writes = api.writes;
    const before = api.text('fs-inventory-tls', 'tls.crt');

    const entries = await syncSecrets(api, PLAN);

    expect(entries.every((entry) => entry.action === 'kept')).toBe(true);
    expect(api.writes).toBe(writes);
    expect(api.text('fs-inventory-tls', 'tls.crt')).toBe(before);
  });

  it('when one Secret was deleted, then only that one is issued again, by the same CA', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    await api.deleteSecret('fs-payment-tls');

    const entries = await syncSecrets(api, PLAN);

    expect(entries.filter((entry) => entry.action !== 'kept')).toEqual([
      { secret: 'fs-payment-tls', action: 'issued', reason: 'missing' },
    ]);
    expect(cert(api, 'fs-payment-tls').verify(cert(api, 'fs-ca').publicKey)).toBe(true);
  });

  it('when a certificate expires within renewDays, then it is issued again, and the others are kept', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    const later = new Date(Date.now() + (365 - 29) * DAY);

    const entries = await syncSecrets(api, PLAN, later);

    expect(entries.find((entry) => entry.secret === 'fs-ca')?.action).toBe('kept');
    expect(entries.filter((entry) => entry.action === 'issued').map((entry) => entry.reason)).toEqual([
      'expires in 28 days',
      'expires in 28 days',
      'expires in 28 days',
    ]);
  });

  it('when a certificate names the wrong identity (another trust domain, other names), then it is issued again', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    const renamed: Plan = {
      ...PLAN,
      certificates: [
        { ...PLAN.certificates[0]!, spiffeId: 'spiffe://example.org/ns/shop/sa/fs-inventory' },
        PLAN.certificates[1]!,
        { ...PLAN.certificates[2]!, dnsNames: ['fs-gateway', 'grpc.shop.example.com'] },
      ],
    };

    const entries = await syncSecrets(api, renamed);

    expect(actions(entries)).toEqual([
      'fs-ca kept',
      'fs-inventory-tls issued',
      'fs-payment-tls kept',
      'fs-front-door-tls issued',
    ]);
    expect(spiffeIdOf(api.text('fs-inventory-tls', 'tls.crt')!)).toBe('spiffe://example.org/ns/shop/sa/fs-inventory');
    expect(cert(api, 'fs-front-door-tls').checkHost('grpc.shop.example.com')).toBe('grpc.shop.example.com');
  });

  it('when the door certificate could also be used as a client one, then it is issued again as a server one', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    const ca = { certPem: api.text('fs-ca', 'tls.crt')!, keyPem: api.text('fs-ca', 'tls.key')! };
    const both = await issueCertificate({
      ca,
      commonName: 'fs-gateway',
      dnsNames: ['fs-gateway', 'fs-gateway.shop.svc'],
      days: 365,
    });
    api.store.get('fs-front-door-tls')!.data!['tls.crt'] = Buffer.from(both.certPem).toString('base64');
    api.store.get('fs-front-door-tls')!.data!['tls.key'] = Buffer.from(both.keyPem).toString('base64');

    const entries = await syncSecrets(api, PLAN);

    expect(entries.at(-1)).toEqual({
      secret: 'fs-front-door-tls',
      action: 'issued',
      reason: 'usable as a client certificate',
    });
    expect(cert(api, 'fs-front-door-tls').keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('when a certificate was signed by another CA or its key does not match, then it is issued again', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    const foreignCa = await createCa({ commonName: 'foreign', days: 3650 });
    const foreign = await issueCertificate({ ca: foreignCa, commonName: 'x', spiffeId: id('inventory'), days: 365 });
    const other = await issueCertificate({ ca: foreignCa, commonName: 'y', spiffeId: id('payment'), days: 365 });
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    api.store.get('fs-inventory-tls')!.data!['tls.crt'] = b64(foreign.certPem);
    api.store.get('fs-inventory-tls')!.data!['tls.key'] = b64(foreign.keyPem);
    api.store.get('fs-payment-tls')!.data!['tls.key'] = b64(other.keyPem);

    const entries = await syncSecrets(api, PLAN);

    expect(entries.filter((entry) => entry.action === 'issued')).toEqual([
      { secret: 'fs-inventory-tls', action: 'issued', reason: 'signed by another CA' },
      { secret: 'fs-payment-tls', action: 'issued', reason: 'the key does not match the certificate' },
    ]);
  });

  it('when the CA would not outlive a new certificate, then a new CA reissues everything, and the old one stays trusted beside it', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, { ...PLAN, days: 100, renewDays: 10, ca: { ...PLAN.ca, days: 200 } });
    const oldCa = api.text('fs-ca', 'tls.crt')!;

    const entries = await syncSecrets(api, PLAN);

    expect(entries.map((entry) => entry.action)).toEqual(['issued', 'issued', 'issued', 'issued']);
    expect(entries[0]!.reason).toMatch(/^expires in 199 days$/);
    const newCa = api.text('fs-ca', 'tls.crt')!;
    expect(newCa).not.toBe(oldCa);
    expect(api.text('fs-ca', 'previous.crt')).toBe(oldCa);
    expect(api.text('fs-inventory-tls', 'ca.crt')).toBe(newCa + oldCa);
    expect(cert(api, 'fs-inventory-tls').verify(new X509Certificate(newCa).publicKey)).toBe(true);

    // Once the old CA has expired, it leaves the bundle; the certificates themselves are kept.
    const afterOldExpiry = new Date(Date.now() + 201 * DAY);
    const later = await syncSecrets(api, PLAN, afterOldExpiry);
    expect(later[0]).toEqual({ secret: 'fs-ca', action: 'updated', reason: 'new previous.crt' });
    expect(api.text('fs-ca', 'previous.crt')).toBeUndefined();
    expect(api.text('fs-payment-tls', 'ca.crt')).toBe(newCa);
  });

  it('when the owner exists (after the first install), then every Secret is owned by it, and that is written once', async () => {
    const api = new FakeSecrets();
    const plan: Plan = { ...PLAN, owner: { kind: 'ConfigMap', name: 'fs-access-policy' } };
    await syncSecrets(api, plan);
    expect([...api.store.values()].every((secret) => secret.metadata.ownerReferences === undefined)).toBe(true);
    const data = api.text('fs-inventory-tls', 'tls.crt');
    api.configMaps.set('fs-access-policy', 'uid-1');

    const entries = await syncSecrets(api, plan);

    expect(entries.map((entry) => `${entry.action} ${entry.reason}`)).toEqual(Array(4).fill('updated owner'));
    for (const secret of api.store.values()) {
      expect(secret.metadata.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'fs-access-policy', uid: 'uid-1' },
      ]);
    }
    expect(api.text('fs-inventory-tls', 'tls.crt')).toBe(data);
    const writes = api.writes;
    expect((await syncSecrets(api, plan)).every((entry) => entry.action === 'kept')).toBe(true);
    expect(api.writes).toBe(writes);
  });

  it('when the Secrets were left by an uninstalled release of the same name, then they are all issued anew', async () => {
    const api = new FakeSecrets();
    const plan: Plan = { ...PLAN, owner: { kind: 'ConfigMap', name: 'fs-access-policy' } };
    api.configMaps.set('fs-access-policy', 'uid-old');
    await syncSecrets(api, plan);
    const before = api.text('fs-ca', 'tls.crt');
    // Uninstalled (its ConfigMap is gone), and installed again before garbage collection removed the Secrets.
    api.configMaps.delete('fs-access-policy');

    const entries = await syncSecrets(api, plan);

    expect(entries.map((entry) => `${entry.action} ${entry.reason}`)).toEqual(Array(4).fill('issued missing'));
    expect(api.text('fs-ca', 'tls.crt')).not.toBe(before);
    expect([...api.store.values()].every((secret) => !secret.metadata.ownerReferences?.length)).toBe(true);
  });

  it('when a Secret of the same name has another type, then it is replaced by a kubernetes.io/tls one', async () => {
    const api = new FakeSecrets();
    await api.createSecret({ metadata: { name: 'fs-payment-tls' }, type: 'Opaque', data: { other: 'eA==' } });

    await syncSecrets(api, PLAN);

    expect(api.store.get('fs-payment-tls')?.type).toBe('kubernetes.io/tls');
    expect(api.store.get('fs-payment-tls')?.data?.other).toBeUndefined();
  });

  it('when an existing Secret has other labels and annotations, then they are kept beside the release labels', async () => {
    const api = new FakeSecrets();
    await syncSecrets(api, PLAN);
    const secret = api.store.get('fs-inventory-tls')!;
    secret.metadata = { ...secret.metadata, labels: { team: 'payments' } };
    (secret.metadata as Record<string, unknown>).annotations = { note: 'kept' };
    secret.data!['ca.crt'] = Buffer.from('stale').toString('base64');

    const entries = await syncSecrets(api, PLAN);

    expect(entries[1]).toEqual({ secret: 'fs-inventory-tls', action: 'updated', reason: 'new ca.crt' });
    const updated = api.store.get('fs-inventory-tls')!;
    expect(updated.metadata.labels).toEqual({ team: 'payments', ...PLAN.labels });
    expect((updated.metadata as Record<string, unknown>).annotations).toEqual({ note: 'kept' });
  });
});

describe('the plan', () => {
  it('when it is sound, then it parses', () => {
    expect(parsePlan(JSON.stringify(PLAN))).toEqual({ plan: PLAN });
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a certificate naming nothing',
      { ...PLAN, certificates: [{ secret: 'x', commonName: 'x' }] },
      /spiffeId or dnsNames/,
    ],
    ['a CA that would not outlive its certificates', { ...PLAN, ca: { ...PLAN.ca, days: 300 } }, /ca\.days/],
    ['a renewal window as long as the validity', { ...PLAN, renewDays: 365 }, /renewDays/],
    [
      'two certificates in one Secret',
      { ...PLAN, certificates: [PLAN.certificates[0], PLAN.certificates[0]] },
      /different/,
    ],
    ['an upper-case Secret name', { ...PLAN, ca: { ...PLAN.ca, secret: 'CA' } }, /object name/],
  ])('when it has %s, then it is refused with a reason', (_what, plan, reason) => {
    const parsed = parsePlan(JSON.stringify(plan));
    expect('problems' in parsed && parsed.problems.join('\n')).toMatch(reason);
  });

  it('when the variable is missing or not JSON, then the command exits 64 and touches nothing', async () => {
    const api = new FakeSecrets();
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await secretsCommand(['sync'], config({}), () => api)).toBe(64);
      expect(await secretsCommand(['sync'], config({ FLASH_PKI_PLAN: '{' }), () => api)).toBe(64);
      expect(await secretsCommand(['rotate'], config({ FLASH_PKI_PLAN: JSON.stringify(PLAN) }), () => api)).toBe(64);
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toMatch(/FLASH_PKI_PLAN is not set/);
    } finally {
      stderr.mockRestore();
    }
    expect(api.writes).toBe(0);
  });

  it('when the command syncs, then it prints one line per Secret', async () => {
    const lines: string[] = [];
    const code = await secretsCommand(
      ['sync'],
      config({ FLASH_PKI_PLAN: JSON.stringify(PLAN) }),
      () => new FakeSecrets(),
      (line) => lines.push(line),
    );
    expect(code).toBe(0);
    expect(lines).toEqual([
      '[pki] shop/fs-ca issued (missing)',
      '[pki] shop/fs-inventory-tls issued (missing)',
      '[pki] shop/fs-payment-tls issued (missing)',
      '[pki] shop/fs-front-door-tls issued (missing)',
    ]);
  });
});
