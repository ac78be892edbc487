import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { descriptorSetPath, inventoryV1 } from '@flash-sale/contracts';
import { notFound } from '@flash-sale/errors';
import { createLogger } from '@flash-sale/logging';
import {
  callUnary,
  createClient,
  createHealthClient,
  isServing,
  plaintextTransport,
  readFailure,
  startGrpcServer,
  unary,
  type RunningGrpcServer,
} from '../src';

const logger = createLogger({ service: 'grpc-kit-test', level: 'silent' });
/** These tests are of the server itself, over plaintext (test/mtls.int.test.ts covers mutual TLS). */
const plaintext = plaintextTransport().client('inventory');
const reflectionProto = join(
  require.resolve('@grpc/reflection'),
  '..',
  '..',
  'proto',
  'grpc',
  'reflection',
  'v1',
  'reflection.proto',
);

type ReflectionClient = Client & {
  serverReflectionInfo(): NodeJS.ReadWriteStream & { write(request: object): boolean; end(): void };
};

let server: RunningGrpcServer;
let address: string;

/** A gRPC server with the inventory service, whose GetStock always answers NOT_FOUND (and counts its calls). */
async function startStub(
  port: number,
  options: { maxConnectionAgeMs?: number } = {},
): Promise<RunningGrpcServer & { calls(): number }> {
  const unimplemented = () => async () => {
    throw new Error('not used');
  };
  let calls = 0;
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port,
    descriptorSetPath,
    logger,
    ...options,
    services: [
      {
        name: 'flashsale.inventory.v1.InventoryService',
        definition: inventoryV1.InventoryServiceService,
        implementation: {
          getStock: unary('GetStock', logger, async (request: inventoryV1.GetStockRequest) => {
            calls += 1;
            throw notFound('PROMOTION_NOT_FOUND', `promotion ${request.promotionId} has no stock`, {
              promotion_id: request.promotionId,
            });
          }),
          reserve: unary('Reserve', logger, unimplemented()),
          getReservation: unary('GetReservation', logger, unimplemented()),
          prepareSale: unary('PrepareSale', logger, unimplemented()),
          release: unary('Release', logger, unimplemented()),
          confirm: unary('Confirm', logger, unimplemented()),
        },
      },
    ],
  });
  return Object.assign(server, { calls: () => calls });
}

beforeAll(async () => {
  server = await startStub(0);
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.shutdown(1_000);
});

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the gRPC client kit', () => {
  it('when an upstream is not up yet, then fail-fast calls get UNAVAILABLE at once, and a call that waits for it gets the answer once it is up', async () => {
    const port = await freePort();
    const client = createClient(inventoryV1.InventoryServiceClient, `127.0.0.1:${port}`, plaintext);
    const ask = (waitForReady: boolean, timeoutMs: number) =>
      callUnary(client.getStock, client, { promotionId: '42' }, { timeoutMs, waitForReady }).then(
        () => undefined,
        (error: ServiceError) => error.code,
      );
    try {
      // Nobody listens for 6 s: every attempt to connect fails, and the channel backs off between attempts (what a
      // service sees when the one it calls starts later than it, or restarts).
      const failing = Date.now() + 6_000;
      while (Date.now() < failing) {
        expect(await ask(false, 1_000)).toBe(status.UNAVAILABLE);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Its deadline leaves room for the server's own start-up on a loaded machine (CI once took over 2.5 s).
      const waiting = ask(true, 10_000);
      const late = await startStub(port);
      try {
        expect(await waiting).toBe(status.NOT_FOUND); // the server's own answer
      } finally {
        await late.shutdown(500);
      }
    } finally {
      client.close();
    }
  }, 20_000);
});

/** Asks GetStock, and returns the status the call ended with (the stub always answers NOT_FOUND). */
const askStock = (client: inventoryV1.InventoryServiceClient) =>
  callUnary(client.getStock, client, { promotionId: '42' }, { timeoutMs: 5_000 }).then(
    () => status.OK,
    (error: ServiceError) => error.code,
  );

describe('the gRPC client kit across several servers', () => {
  it('when the address resolves to several servers, then calls are spread over all of them, not held on one', async () => {
    const [a, b] = await Promise.all([startStub(0), startStub(0)]);
    // As a headless Service's name resolves to its ready pods.
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`,
      plaintext,
    );
    try {
      for (let i = 0; i < 20; i += 1) expect(await askStock(client)).toBe(status.NOT_FOUND);
      // Both take a share (exact halves once both connections are up; the first calls may find one still connecting).
      expect(a.calls() + b.calls()).toBe(20);
      expect(Math.min(a.calls(), b.calls())).toBeGreaterThanOrEqual(5);
    } finally {
      client.close();
      await Promise.all([a.shutdown(500), b.shutdown(500)]);
    }
  });

  /** Eight callers for 2 s through a TCP relay in front of a server: what they heard, and how many connections. */
  async function callThroughRelay(maxConnectionAgeMs: number) {
    const stub = await startStub(0, { maxConnectionAgeMs });
    let connections = 0;
    const relay: Server = createServer((socket) => {
      connections += 1;
      const upstream = connect(stub.port, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const client = createClient(
      inventoryV1.InventoryServiceClient,
      `127.0.0.1:${(relay.address() as AddressInfo).port}`,
      plaintext,
    );
    const outcomes: Record<string, number> = {};
    try {
      const until = Date.now() + 2_000;
      const caller = async () => {
        while (Date.now() < until) {
          const code = status[await askStock(client)];
          outcomes[code] = (outcomes[code] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: 8 }, caller));
    } finally {
      client.close();
      relay.close();
      await stub.shutdown(500);
    }
    return { outcomes, connections };
  }

  it('when a server asks its clients to reconnect (its connections grew old), then calls go on without a single failure', async () => {
    const { outcomes, connections } = await callThroughRelay(300);
    expect(Object.keys(outcomes)).toEqual(['NOT_FOUND']); // the server's own answer, every time
    expect(connections).toBeGreaterThanOrEqual(3);
  });

  it('when the connection age is 0, then a client keeps its one connection', async () => {
    const { outcomes, connections } = await callThroughRelay(0);
    expect(Object.keys(outcomes)).toEqual(['NOT_FOUND']);
    expect(connections).toBe(1);
  });
});

describe('the gRPC server kit', () => {
  it('when asked through server reflection, then it lists our service and the health service', async () => {
    const definition = loadPackageDefinition(loadSync(reflectionProto)) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (
              address: string,
              creds: ReturnType<typeof credentials.createInsecure>,
            ) => ReflectionClient;
          };
        };
      };
    };
    const client = new definition.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = client.serverReflectionInfo();
      call.on('data', (response: { listServicesResponse?: { service: { name: string }[] } }) => {
        resolve(response.listServicesResponse?.service.map((service) => service.name) ?? []);
        call.end();
      });
      call.on('error', reject);
      call.write({ listServices: '' });
    });
    client.close();
    expect(names).toEqual(expect.arrayContaining(['flashsale.inventory.v1.InventoryService', 'grpc.health.v1.Health']));
  });

  it('when health is checked, then the server and its service are SERVING', async () => {
    const health = createHealthClient(address, plaintext);
    expect(await isServing(health)).toBe(true);
    expect(await isServing(health, 'flashsale.inventory.v1.InventoryService')).toBe(true);
    expect(await isServing(health, 'no.such.Service')).toBe(false);
    health.close();
  });

  it('when a handler throws a domain error, then the client gets its status, message and ErrorInfo reason', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, address, plaintext);
    const failure = await callUnary(
      client.getStock,
      client,
      { promotionId: '42' },
      { timeoutMs: 2_000, metadata: new Metadata() },
    ).then(
      () => undefined,
      (error: ServiceError) => readFailure(error),
    );
    client.close();
    expect(failure).toEqual({
      code: status.NOT_FOUND,
      message: 'promotion 42 has no stock',
      info: { reason: 'PROMOTION_NOT_FOUND', domain: 'flashsale', metadata: { promotion_id: '42' } },
    });
  });

  it('when a handler fails unexpectedly, then the client sees INTERNAL with no internals', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, address, plaintext);
    const failure = await callUnary(client.reserve, client, inventoryV1.ReserveRequest.fromPartial({}), {
      timeoutMs: 2_000,
    }).then(
      () => undefined,
      (error: ServiceError) => readFailure(error),
    );
    client.close();
    expect(failure).toEqual({ code: status.INTERNAL, message: 'internal error' });
  });
});
