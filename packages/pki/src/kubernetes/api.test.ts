import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate } from '../certificates';
import { inClusterApi, KubernetesApiError, type KubernetesApi } from './api';

interface Seen {
  method: string;
  url: string;
  authorization: string;
  body: unknown;
}

/** A stand-in API server on loopback, over TLS with a certificate of its own CA, holding Secrets in memory. */
describe('inClusterSecrets', () => {
  let dir: string;
  let server: Server;
  let api: KubernetesApi;
  let tokenFile: string;
  const seen: Seen[] = [];
  const secrets = new Map<string, unknown>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-api-'));
    const ca = await createCa({ commonName: 'test cluster CA', days: 2 });
    const serving = await issueCertificate({ ca, commonName: 'apiserver', ipAddresses: ['127.0.0.1'], days: 1 });
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first-token\n');
    server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const parsed = body ? (JSON.parse(body) as { metadata: { name: string } }) : undefined;
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization!, body: parsed });
        const reply = (status: number, json: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
        if (req.url === '/api/v1/namespaces/shop/configmaps/fs-access-policy') {
          return reply(200, { kind: 'ConfigMap', metadata: { name: 'fs-access-policy', uid: 'c0ffee' } });
        }
        if (req.url!.includes('/configmaps/')) return reply(404, { kind: 'Status', message: 'not found' });
        const name = decodeURIComponent(req.url!.split('/secrets/')[1] ?? '');
        if (name === 'forbidden') return reply(403, { kind: 'Status', message: 'secrets "forbidden" is forbidden' });
        if (req.method === 'POST') {
          secrets.set(parsed!.metadata.name, parsed);
          return reply(201, parsed);
        }
        if (!secrets.has(name)) return reply(404, { kind: 'Status', message: `secrets "${name}" not found` });
        if (req.method === 'GET') return reply(200, secrets.get(name));
        if (req.method === 'PUT') return (secrets.set(name, parsed), reply(200, parsed));
        if (req.method === 'DELETE') return (secrets.delete(name), reply(200, { kind: 'Status', status: 'Success' }));
        return reply(405, { message: 'no' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    api = inClusterApi('shop', { host: '127.0.0.1', port, tokenFile, caFile: join(dir, 'ca.crt') });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a Secret is created, read, replaced and deleted, then each call is the API path with the bearer token', async () => {
    const secret = { metadata: { name: 'fs-ca' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } };
    await api.createSecret(secret);
    expect((await api.getSecret('fs-ca'))?.data).toEqual({ 'tls.crt': 'eA==' });
    await api.replaceSecret({ ...secret, data: { 'tls.crt': 'eQ==' } });
    expect(await api.deleteSecret('fs-ca')).toBe(true);

    expect(seen.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'POST /api/v1/namespaces/shop/secrets',
      'GET /api/v1/namespaces/shop/secrets/fs-ca',
      'PUT /api/v1/namespaces/shop/secrets/fs-ca',
      'DELETE /api/v1/namespaces/shop/secrets/fs-ca',
    ]);
    expect(seen[0]!.body).toEqual({ apiVersion: 'v1', kind: 'Secret', ...secret });
    expect(new Set(seen.map((call) => call.authorization))).toEqual(new Set(['Bearer first-token']));
  });

  it('when a Secret does not exist, then get gives undefined and delete false', async () => {
    expect(await api.getSecret('nothing')).toBeUndefined();
    expect(await api.deleteSecret('nothing')).toBe(false);
  });

  it('when the owner ConfigMap exists, then its reference carries its uid; while it does not, there is none', async () => {
    expect(await api.ownerReference('ConfigMap', 'fs-access-policy')).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'fs-access-policy',
      uid: 'c0ffee',
    });
    expect(await api.ownerReference('ConfigMap', 'later')).toBeUndefined();
  });

  it('when the API server refuses, then the error carries its status and message', async () => {
    const error = await api.getSecret('forbidden').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ status: 403 });
    expect((error as Error).message).toBe('reading Secret shop/forbidden: HTTP 403: secrets "forbidden" is forbidden');
  });

  it('when kubelet rotates the token, then the next call sends the new one', async () => {
    writeFileSync(tokenFile, 'second-token');
    await api.getSecret('nothing');
    expect(seen.at(-1)!.authorization).toBe('Bearer second-token');
  });

  it('when the server certificate is not signed by the cluster CA, then no call is made', async () => {
    const other = await createCa({ commonName: 'another CA', days: 2 });
    writeFileSync(join(dir, 'other.crt'), other.certPem);
    const port = (server.address() as { port: number }).port;
    const untrusting = inClusterApi('shop', { host: '127.0.0.1', port, tokenFile, caFile: join(dir, 'other.crt') });
    const count = seen.length;
    await expect(untrusting.getSecret('fs-ca')).rejects.toThrow(/certificate/);
    expect(seen.length).toBe(count);
  });
});
