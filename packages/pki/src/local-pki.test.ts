import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MESH_WORKLOADS } from '@flash-sale/config';
import { createCa, issueCertificate, spiffeIdOf } from './certificates';
import { initPki, type InitEntry } from './local-pki';

const issued = (entries: InitEntry[]) =>
  entries.filter((entry) => entry.action === 'issued').map((entry) => entry.name);
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

describe('initPki', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when the directory is empty, then it holds a CA and a certificate per workload and the front door, keys 0600', async () => {
    const entries = await initPki({ dir });

    expect(issued(entries)).toEqual(['ca', ...MESH_WORKLOADS, 'front-door']);
    const ca = new X509Certificate(read(dir, 'ca.crt'));
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    for (const workload of MESH_WORKLOADS) {
      const cert = new X509Certificate(read(dir, `${workload}/tls.crt`));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(spiffeIdOf(cert.toString())).toBe(`spiffe://flash-sale.local/ns/local/sa/flash-sale-${workload}`);
      expect(read(dir, `${workload}/ca.crt`)).toBe(read(dir, 'ca.crt'));
      expect(statSync(join(dir, `${workload}/tls.key`)).mode & 0o777).toBe(0o600);
    }
    const door = new X509Certificate(read(dir, 'front-door/tls.crt'));
    expect(door.checkHost('localhost')).toBe('localhost');
    expect(door.checkIP('127.0.0.1')).toBe('127.0.0.1');
    // A server's certificate: no SPIFFE ID, and not usable to call a workload.
    expect(door.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('when run again, then every valid certificate is kept as it is', async () => {
    await initPki({ dir });
    const before = read(dir, 'order/tls.crt');

    const entries = await initPki({ dir });

    expect(issued(entries)).toEqual([]);
    expect(read(dir, 'order/tls.crt')).toBe(before);
  });

  it('when a certificate expires within a day, names another identity or comes from another CA, then only it is issued again', async () => {
    await initPki({ dir });
    const ca = { certPem: read(dir, 'ca.crt'), keyPem: read(dir, 'ca.key') };
    const expiring = await issueCertificate({
      ca,
      commonName: 'order',
      spiffeId: 'spiffe://flash-sale.local/ns/local/sa/flash-sale-order',
      days: 1,
    });
    writeFileSync(join(dir, 'order/tls.crt'), expiring.certPem);
    writeFileSync(join(dir, 'order/tls.key'), expiring.keyPem);
    const other = await issueCertificate({
      ca,
      commonName: 'payment',
      spiffeId: 'spiffe://flash-sale.local/ns/local/sa/flash-sale-inventory',
      days: 30,
    });
    writeFileSync(join(dir, 'payment/tls.crt'), other.certPem);
    writeFileSync(join(dir, 'payment/tls.key'), other.keyPem);
    const foreign = await issueCertificate({
      ca: await createCa({ commonName: 'foreign', days: 30 }),
      commonName: 'gateway',
      spiffeId: 'spiffe://flash-sale.local/ns/local/sa/flash-sale-gateway',
      days: 30,
    });
    writeFileSync(join(dir, 'gateway/tls.crt'), foreign.certPem);
    writeFileSync(join(dir, 'gateway/tls.key'), foreign.keyPem);

    const entries = await initPki({ dir });

    expect(entries.filter((entry) => entry.action === 'issued')).toEqual([
      { name: 'gateway', action: 'issued', reason: 'signed by another CA' },
      { name: 'order', action: 'issued', reason: 'expires within a day' },
      {
        name: 'payment',
        action: 'issued',
        reason: 'does not name spiffe://flash-sale.local/ns/local/sa/flash-sale-payment',
      },
    ]);
    expect(spiffeIdOf(read(dir, 'payment/tls.crt'))).toBe('spiffe://flash-sale.local/ns/local/sa/flash-sale-payment');
  });

  it('when the CA expires within a day, then the CA and every certificate are issued again', async () => {
    await initPki({ dir });

    const entries = await initPki({ dir, now: new Date(Date.now() + 3649 * 86_400_000) });

    expect(issued(entries)).toEqual(['ca', ...MESH_WORKLOADS, 'front-door']);
  });

  it('when the SPIFFE naming changes, then the workload certificates are issued again with the new IDs', async () => {
    await initPki({ dir });

    const naming = { trustDomain: 'cluster.local', namespace: 'shop', saPrefix: 'fs-' };
    const entries = await initPki({ dir, naming });

    expect(issued(entries)).toEqual([...MESH_WORKLOADS]);
    expect(spiffeIdOf(read(dir, 'inventory/tls.crt'))).toBe('spiffe://cluster.local/ns/shop/sa/fs-inventory');
  });

  it('when two runs start together, then they take turns and agree on one CA', async () => {
    const [first, second] = await Promise.all([initPki({ dir }), initPki({ dir })]);

    expect([issued(first).length, issued(second).length].sort()).toEqual([0, 8]);
    const ca = new X509Certificate(read(dir, 'ca.crt'));
    expect(new X509Certificate(read(dir, 'inventory/tls.crt')).verify(ca.publicKey)).toBe(true);
  });
});
