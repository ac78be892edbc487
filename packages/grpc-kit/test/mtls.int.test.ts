import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { credentials, Metadata, ServerInterceptingCall, status, type ServiceError } from '@grpc/grpc-js';
import { ACCESS_POLICY_PATH, LOCAL_SPIFFE, spiffeIdFor, type MeshConfig, type MeshWorkload } from '@flash-sale/config';
import { descriptorSetPath, inventoryV1 } from '@flash-sale/contracts';
import { notFound } from '@flash-sale/errors';
import { createLogger } from '@flash-sale/logging';
import { createCa, initPki, issueCertificate, type CertificatePem } from '@flash-sale/pki';
import {
  authorizationInterceptor,
  callerMetadata,
  callUnary,
  createClient,
  loadAccessPolicy,
  meshTransport,
  optionalCaller,
  readFailure,
  startGrpcServer,
  unary,
  type Caller,
  type ClientTransport,
  type Denial,
  type MeshTransport,
  type RunningGrpcServer,
} from '../src';

// Real servers and clients on loopback, with certificates from a PKI made for this file; the real allow-list.
const RELOAD_MS = 100;
let dir: string;
let ca: CertificatePem;
const lines: Record<string, unknown>[] = [];
const logger = createLogger({
  service: 'mtls-test',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  }),
});
const denials: Denial[] = [];
const callers: (Caller | undefined)[] = [];
let handled = 0;
/** The serial number of the client certificate of every call that got past the TLS handshake. */
const serials: (string | undefined)[] = [];
let release: (() => void) | undefined;
const transports: MeshTransport[] = [];
let server: RunningGrpcServer;
let address: string;

const config = (workload: string, mode: 'on' | 'off' = 'on'): MeshConfig => ({
  MTLS_MODE: mode,
  TLS_DIR: join(dir, workload),
  SPIFFE_TRUST_DOMAIN: LOCAL_SPIFFE.trustDomain,
  SPIFFE_NAMESPACE: LOCAL_SPIFFE.namespace,
  SPIFFE_SA_PREFIX: LOCAL_SPIFFE.saPrefix,
  ACCESS_POLICY_FILE: ACCESS_POLICY_PATH,
});

function transportOf(workload: MeshWorkload, mode: 'on' | 'off' = 'on'): MeshTransport {
  const transport = meshTransport(config(workload, mode), workload, logger, { reloadMs: RELOAD_MS });
  transports.push(transport);
  return transport;
}

/** The inventory service, stubbed: GetStock answers NOT_FOUND; Reserve records its caller; PrepareSale waits. */
async function startInventoryStub(transport: MeshTransport): Promise<RunningGrpcServer> {
  const unused = async () => {
    throw new Error('not used');
  };
  return startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    descriptorSetPath,
    logger,
    transport,
    interceptors: [
      (_descriptor, call) => {
        serials.push(call.getAuthContext().sslPeerCertificate?.serialNumber);
        return new ServerInterceptingCall(call);
      },
      authorizationInterceptor(loadAccessPolicy(ACCESS_POLICY_PATH), transport, logger, (d) => denials.push(d)),
    ],
    services: [
      {
        name: 'flashsale.inventory.v1.InventoryService',
        definition: inventoryV1.InventoryServiceService,
        implementation: {
          getStock: unary('GetStock', logger, async (request: inventoryV1.GetStockRequest) => {
            handled += 1;
            throw notFound('PROMOTION_NOT_FOUND', `promotion ${request.promotionId} has no stock`);
          }),
          reserve: unary('Reserve', logger, async (_request, { metadata }) => {
            handled += 1;
            callers.push(optionalCaller(metadata));
            return inventoryV1.ReserveResponse.fromPartial({ orderId: '1' });
          }),
          prepareSale: unary('PrepareSale', logger, async () => {
            handled += 1;
            await new Promise<void>((resolve) => (release = resolve));
            return inventoryV1.PrepareSaleResponse.fromPartial({ availableStock: 7 });
          }),
          reserveBatch: unary('ReserveBatch', logger, unused),
          getReservation: unary('GetReservation', logger, unused),
          release: unary('Release', logger, unused),
          confirm: unary('Confirm', logger, unused),
        },
      },
    ],
  });
}

/** A client of the stub with exactly these credentials (for the refused certificates). */
function clientWith(transport: ClientTransport) {
  return createClient(inventoryV1.InventoryServiceClient, address, transport, {
    'grpc.initial_reconnect_backoff_ms': 100,
  });
}

/** TLS with a certificate the mesh's own files do not hold; the server's identity is not what these tests check. */
function foreignTransport(pair?: CertificatePem): ClientTransport {
  const creds = credentials.createSsl(
    Buffer.from(ca.certPem),
    pair ? Buffer.from(pair.keyPem) : null,
    pair ? Buffer.from(pair.certPem) : null,
    { checkServerIdentity: () => undefined },
  );
  return { credentials: creds, options: { 'grpc.ssl_target_name_override': 'inventory' } };
}

const stock = (client: inventoryV1.InventoryServiceClient, metadata?: Metadata) =>
  callUnary(client.getStock, client, { promotionId: '42' }, { timeoutMs: 5_000, ...(metadata ? { metadata } : {}) });

const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: ServiceError) => readFailure(error),
  );

const logged = (message: string, fields: Record<string, unknown>) =>
  lines.find((line) => String(line.msg).startsWith(message) && Object.entries(fields).every(([k, v]) => line[k] === v));

const waitForLog = async (message: string, fields: Record<string, unknown>) => {
  const deadline = Date.now() + 5_000;
  while (!logged(message, fields)) {
    if (Date.now() > deadline) throw new Error(`no log line "${message}" with ${JSON.stringify(fields)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return logged(message, fields)!;
};

/** The serial number of the certificate the server presents to a new connection. */
function serverSerial(): Promise<string> {
  const client = (file: string) => readFileSync(join(dir, 'gateway', file));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: server.port,
      ca: client('ca.crt'),
      cert: client('tls.crt'),
      key: client('tls.key'),
      servername: 'inventory',
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** Replaces a workload's files the way a renewed Secret does: a whole new pair at once. Returns the new serial. */
async function rotate(workload: MeshWorkload): Promise<string> {
  const pair = await issueCertificate({
    ca,
    commonName: workload,
    spiffeId: spiffeIdFor(LOCAL_SPIFFE, workload),
    days: 30,
  });
  const folder = join(dir, workload);
  writeFileSync(join(folder, 'tls.key.new'), pair.keyPem, { mode: 0o600 });
  writeFileSync(join(folder, 'tls.crt.new'), pair.certPem);
  renameSync(join(folder, 'tls.key.new'), join(folder, 'tls.key'));
  renameSync(join(folder, 'tls.crt.new'), join(folder, 'tls.crt'));
  return new X509Certificate(pair.certPem).serialNumber;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mtls-'));
  await initPki({ dir });
  ca = { certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
  server = await startInventoryStub(transportOf('inventory'));
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.shutdown(1_000);
  for (const transport of transports) transport.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  lines.length = 0;
  denials.length = 0;
  callers.length = 0;
  handled = 0;
  serials.length = 0;
});

describe('mutual TLS between workloads', () => {
  it('when a workload calls a method the allow-list gives it, then the call reaches the handler', async () => {
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      transportOf('promotion').client('inventory'),
    );
    try {
      expect((await failureOf(stock(client))).code).toBe(status.NOT_FOUND);
      expect(handled).toBe(1);
    } finally {
      client.close();
    }
  });

  it('when the gateway sends caller metadata, then the service honours it', async () => {
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      transportOf('gateway').client('inventory'),
    );
    try {
      const metadata = callerMetadata({ userId: 'buyer-7', roles: ['admin'] }, new Metadata());
      await callUnary(
        client.reserve,
        client,
        { promotionId: '1', quantity: 1, idempotencyKey: 'k' },
        { timeoutMs: 5_000, metadata },
      );

      expect(callers).toEqual([{ userId: 'buyer-7', roles: ['admin'], isAdmin: true }]);
    } finally {
      client.close();
    }
  });

  it.each([
    ['no certificate', undefined, 'NO_CLIENT_CERTIFICATE', /presented no certificate/],
    ['an expired certificate', 'expired', 'CERTIFICATE_EXPIRED', /expired at/],
    ['a certificate from another CA', 'foreign', 'UNTRUSTED_CERTIFICATE', /not signed by the mesh CA/],
    ['a certificate naming no workload of the mesh', 'stranger', 'NOT_A_MESH_WORKLOAD', /billing is not a workload/],
  ])(
    'when a client presents %s, then its connection is refused before any handler and the log says why',
    async (_name, kind, reason, message) => {
      const spiffeId = spiffeIdFor(LOCAL_SPIFFE, kind === 'stranger' ? 'billing' : 'gateway');
      const pair =
        kind === undefined
          ? undefined
          : await issueCertificate({
              ca: kind === 'foreign' ? await createCa({ commonName: 'another CA', days: 30 }) : ca,
              commonName: 'client',
              spiffeId,
              ...(kind === 'expired' ? { days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) } : { days: 30 }),
            });
      const client = clientWith(foreignTransport(pair));
      try {
        expect((await failureOf(stock(client))).code).toBe(status.UNAVAILABLE);

        const line = await waitForLog('mTLS connection refused', { reason });
        expect(line).toMatchObject({ level: 'warn', msg: expect.stringMatching(message) });
        if (kind !== undefined) expect(line.presented).toBe(spiffeId);
        expect(handled).toBe(0);
      } finally {
        client.close();
      }
    },
  );

  it('when a valid workload calls a method not on its allow-list, then PERMISSION_DENIED with CALLER_NOT_ALLOWED, logged and counted', async () => {
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      transportOf('payment').client('inventory'),
    );
    try {
      const failure = await failureOf(callUnary(client.reserveBatch, client, { items: [] }, { timeoutMs: 5_000 }));

      expect(failure).toMatchObject({
        code: status.PERMISSION_DENIED,
        message: 'payment may not call flashsale.inventory.v1.InventoryService/ReserveBatch',
        info: { reason: 'CALLER_NOT_ALLOWED', domain: 'flashsale', metadata: { caller: 'payment' } },
      });
      expect(logged('grpc call denied', { reason: 'CALLER_NOT_ALLOWED', caller: 'payment' })).toMatchObject({
        level: 'warn',
        method: 'flashsale.inventory.v1.InventoryService/ReserveBatch',
        spiffeId: spiffeIdFor(LOCAL_SPIFFE, 'payment'),
      });
      expect(denials).toEqual([
        {
          method: 'flashsale.inventory.v1.InventoryService/ReserveBatch',
          reason: 'CALLER_NOT_ALLOWED',
          caller: 'payment',
        },
      ]);
    } finally {
      client.close();
    }
  });

  it('when a workload that is not a front sends caller metadata, then the call is refused with CALLER_METADATA_REFUSED, not served without it', async () => {
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      transportOf('promotion').client('inventory'),
    );
    try {
      const failure = await failureOf(stock(client, callerMetadata({ userId: 'someone', roles: [] }, new Metadata())));

      expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, info: { reason: 'CALLER_METADATA_REFUSED' } });
      expect(failure.message).toMatch(/promotion may not call on behalf of a user/);
      expect(logged('grpc call denied', { reason: 'CALLER_METADATA_REFUSED', caller: 'promotion' })).toBeDefined();
      expect(denials).toEqual([expect.objectContaining({ reason: 'CALLER_METADATA_REFUSED', caller: 'promotion' })]);
      expect(handled).toBe(0);
    } finally {
      client.close();
    }
  });

  it('when the server is not the workload the client expects, then the client refuses it and logs why', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, address, transportOf('payment').client('order'));
    try {
      const failure = await failureOf(stock(client));

      expect(failure.code).toBe(status.UNAVAILABLE);
      expect(failure.message).toMatch(/the server presents .*flash-sale-inventory, not .*flash-sale-order/);
      expect(logged('mTLS server refused', { reason: 'WRONG_SERVER_IDENTITY', target: 'order' })).toBeDefined();
      expect(handled).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe('certificate rotation', () => {
  it('when the server certificate files are replaced, then new connections get the new one and a call in flight completes', async () => {
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      transportOf('promotion').client('inventory'),
    );
    try {
      const before = await serverSerial();
      const inFlight = callUnary(client.prepareSale, client, inventoryV1.PrepareSaleRequest.fromPartial({}), {
        timeoutMs: 10_000,
      });
      while (!release) await new Promise((resolve) => setTimeout(resolve, 10));

      await rotate('inventory');
      await waitForLog('mTLS certificate reloaded', { dir: join(dir, 'inventory') });

      expect(await serverSerial()).not.toBe(before);
      release();
      expect(await inFlight).toEqual({ availableStock: 7 });
      const fresh = createClient(
        inventoryV1.InventoryServiceClient,
        address,
        transportOf('promotion').client('inventory'),
        {
          'grpc.channel_id': 'fresh',
        },
      );
      try {
        expect((await failureOf(stock(fresh))).code).toBe(status.NOT_FOUND);
      } finally {
        fresh.close();
      }
    } finally {
      release = undefined;
      client.close();
    }
  });

  it('when the client certificate files are replaced, then the next new connection presents the new one', async () => {
    const transport = transportOf('promotion');
    const first = createClient(inventoryV1.InventoryServiceClient, address, transport.client('inventory'), {
      'grpc.channel_id': 1,
    });
    try {
      await failureOf(stock(first));
      const rotated = await rotate('promotion');
      await waitForLog('mTLS certificate reloaded', { dir: join(dir, 'promotion') });
      // Every transport of this workload reads the files on its own tick; give them all one.
      await new Promise((resolve) => setTimeout(resolve, 3 * RELOAD_MS));
      const second = createClient(inventoryV1.InventoryServiceClient, address, transport.client('inventory'), {
        'grpc.channel_id': 2,
      });
      try {
        await failureOf(stock(second));
        await failureOf(stock(first));

        expect(serials).toHaveLength(3);
        expect(serials[0]).not.toBe(rotated);
        expect(serials[1]).toBe(rotated);
        expect(serials[2]).toBe(serials[0]); // the open connection keeps the certificate it was made with
      } finally {
        second.close();
      }
    } finally {
      first.close();
    }
  });

  it('when a half-written pair appears (a key without its certificate), then it is not taken until the pair agrees', async () => {
    const transport = transportOf('order');
    const folder = join(dir, 'order');
    const pair = await issueCertificate({
      ca,
      commonName: 'order',
      spiffeId: spiffeIdFor(LOCAL_SPIFFE, 'order'),
      days: 30,
    });
    writeFileSync(join(folder, 'tls.key'), pair.keyPem);

    const warning = await waitForLog('mTLS certificate change not taken', { dir: folder });
    expect(warning.problem).toBe('tls.key does not match tls.crt');
    writeFileSync(join(folder, 'tls.crt'), pair.certPem);
    await waitForLog('mTLS certificate reloaded', { dir: folder });
    expect(transport.mode).toBe('on');
  });
});

describe('MTLS_MODE=off', () => {
  it('when mTLS is off, then the transport is plaintext and says so at start', () => {
    const transport = transportOf('gateway', 'off');

    expect(transport.mode).toBe('off');
    expect(logged('MTLS_MODE=off', { level: 'warn' })).toBeDefined();
  });
});
