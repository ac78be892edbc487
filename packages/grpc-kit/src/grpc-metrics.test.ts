import { ServerInterceptingCall, status, type ServerInterceptor, type ServiceError } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { descriptorSetPath, inventoryV1 } from '@flash-sale/contracts';
import { precondition } from '@flash-sale/errors';
import { createLogger } from '@flash-sale/logging';
import { callUnary, createClient } from './client';
import { GrpcMetrics } from './grpc-metrics';
import { createHealthClient, isServing } from './health-client';
import { plaintextTransport } from './mesh-tls';
import { startGrpcServer, type RunningGrpcServer } from './server';
import { unary } from './unary';

const logger = createLogger({ service: 'grpc-metrics-test', level: 'silent' });
const SERVICE = 'flashsale.inventory.v1.InventoryService';

/** A refusal before the handler, as the allow-list makes one: PrepareSale is PERMISSION_DENIED. */
const refusePrepareSale: ServerInterceptor = (descriptor, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, pass) => {
          if (!descriptor.path.endsWith('/PrepareSale')) return pass(metadata);
          call.sendStatus({ code: status.PERMISSION_DENIED, details: 'not you' });
        },
      }),
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: RunningGrpcServer;
let client: inventoryV1.InventoryServiceClient;
const serverRegistry = new Registry();
const clientRegistry = new Registry();

beforeAll(async () => {
  const never = async () => {
    throw new Error('not used');
  };
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    descriptorSetPath,
    logger,
    metrics: GrpcMetrics.of(serverRegistry),
    interceptors: [refusePrepareSale],
    services: [
      {
        name: SERVICE,
        definition: inventoryV1.InventoryServiceService,
        implementation: {
          getStock: unary('GetStock', logger, async () => inventoryV1.GetStockResponse.fromPartial({ totalStock: 1 })),
          reserve: unary('Reserve', logger, async () => {
            throw precondition('SOLD_OUT', 'the promotion is sold out');
          }),
          // Answers after the caller's deadline.
          release: unary('Release', logger, async () => (await sleep(300), { released: true })),
          // Answers only when the caller gives up.
          confirm: unary('Confirm', logger, async (_request, { signal }) => {
            await new Promise((resolve) => signal.addEventListener('abort', resolve));
            throw new Error('cancelled');
          }),
          getReservation: unary('GetReservation', logger, never),
          prepareSale: unary('PrepareSale', logger, never),
          reserveBatch: unary('ReserveBatch', logger, never),
        },
      },
    ],
  });
  client = createClient(
    inventoryV1.InventoryServiceClient,
    `127.0.0.1:${server.port}`,
    plaintextTransport().client('inventory'),
    { metrics: GrpcMetrics.of(clientRegistry) },
  );
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(500);
});

/** The value of one series in `registry`'s exposition, undefined when it is not there. */
async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of (await registry.metrics()).split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2]!.split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

const method = (name: string) => ({ grpc_type: 'unary', grpc_service: SERVICE, grpc_method: name });
const codeOf = (call: Promise<unknown>) =>
  call.then(
    () => status.OK,
    (error: ServiceError) => error.code,
  );

describe('gRPC RED metrics', () => {
  it('when calls end OK, refused by a handler or by an interceptor, then both sides count them by method and code', async () => {
    const stock = () => callUnary(client.getStock, client, { promotionId: '1' }, { timeoutMs: 2_000 });
    expect(await codeOf(stock())).toBe(status.OK);
    expect(await codeOf(stock())).toBe(status.OK);
    expect(
      await codeOf(
        callUnary(client.reserve, client, inventoryV1.ReserveRequest.fromPartial({ promotionId: '1' }), {
          timeoutMs: 2_000,
        }),
      ),
    ).toBe(status.FAILED_PRECONDITION);
    expect(
      await codeOf(
        callUnary(client.prepareSale, client, inventoryV1.PrepareSaleRequest.fromPartial({ promotionId: '1' }), {
          timeoutMs: 2_000,
        }),
      ),
    ).toBe(status.PERMISSION_DENIED);

    for (const [registry, side] of [
      [serverRegistry, 'server'],
      [clientRegistry, 'client'],
    ] as const) {
      expect(await sample(registry, `grpc_${side}_started_total`, method('GetStock'))).toBe(2);
      expect(await sample(registry, `grpc_${side}_handled_total`, { ...method('GetStock'), grpc_code: 'OK' })).toBe(2);
      expect(await sample(registry, `grpc_${side}_handling_seconds_count`, method('GetStock'))).toBe(2);
      expect(
        await sample(registry, `grpc_${side}_handling_seconds_bucket`, { ...method('GetStock'), le: '+Inf' }),
      ).toBe(2);
      expect(
        await sample(registry, `grpc_${side}_handled_total`, {
          ...method('Reserve'),
          grpc_code: 'FAILED_PRECONDITION',
        }),
      ).toBe(1);
      expect(
        await sample(registry, `grpc_${side}_handled_total`, {
          ...method('PrepareSale'),
          grpc_code: 'PERMISSION_DENIED',
        }),
      ).toBe(1);
      // Every method is there from the start, at 0; a code appears once a call ended with it.
      expect(await sample(registry, `grpc_${side}_started_total`, method('ReserveBatch'))).toBe(0);
      expect(
        await sample(registry, `grpc_${side}_handled_total`, { ...method('GetStock'), grpc_code: 'INTERNAL' }),
      ).toBe(undefined);
    }
  });

  it('when the deadline passes or the caller cancels before the answer, then each side counts the call once, with that code', async () => {
    expect(
      await codeOf(
        callUnary(client.release, client, inventoryV1.ReleaseRequest.fromPartial({ orderId: '1' }), { timeoutMs: 50 }),
      ),
    ).toBe(status.DEADLINE_EXCEEDED);
    const call = client.confirm(inventoryV1.ConfirmRequest.fromPartial({ orderId: '1' }), () => undefined);
    await sleep(50);
    call.cancel();
    await sleep(400); // past the late answer of Release

    for (const [registry, side] of [
      [serverRegistry, 'server'],
      [clientRegistry, 'client'],
    ] as const) {
      const release = { ...method('Release'), grpc_code: 'DEADLINE_EXCEEDED' };
      expect(await sample(registry, `grpc_${side}_handled_total`, release)).toBe(1);
      expect(await sample(registry, `grpc_${side}_handled_total`, { ...method('Release'), grpc_code: 'OK' })).toBe(
        undefined,
      );
      expect(await sample(registry, `grpc_${side}_handling_seconds_count`, method('Release'))).toBe(1);
      // Measured to the deadline, not to the late answer.
      expect(await sample(registry, `grpc_${side}_handling_seconds_bucket`, { ...method('Release'), le: '0.25' })).toBe(
        1,
      );
      expect(
        await sample(registry, `grpc_${side}_handled_total`, { ...method('Confirm'), grpc_code: 'CANCELLED' }),
      ).toBe(1);
      expect(await sample(registry, `grpc_${side}_handling_seconds_count`, method('Confirm'))).toBe(1);
    }
  });

  it('when methods outside the bound services are called (health), then they are not counted', async () => {
    const health = createHealthClient(`127.0.0.1:${server.port}`, plaintextTransport().client('inventory'));
    try {
      expect(await isServing(health)).toBe(true);
    } finally {
      health.close();
    }
    expect(await serverRegistry.metrics()).not.toContain('grpc.health');
  });

  it('when a second client of the same service is bound to the registry, then it adds to the same series', async () => {
    // Bound by hand here, as a client with interceptors of its own would be; the first client used createClient's option.
    const metrics = GrpcMetrics.of(clientRegistry);
    expect(metrics).toBe(GrpcMetrics.of(clientRegistry));
    const second = createClient(
      inventoryV1.InventoryServiceClient,
      `127.0.0.1:${server.port}`,
      plaintextTransport().client('inventory'),
      { interceptors: [metrics.clientInterceptor(inventoryV1.InventoryServiceService)] },
    );
    try {
      const before = (await sample(clientRegistry, 'grpc_client_started_total', method('GetStock')))!;
      await callUnary(second.getStock, second, { promotionId: '1' }, { timeoutMs: 2_000 });
      expect(await sample(clientRegistry, 'grpc_client_started_total', method('GetStock'))).toBe(before + 1);
      const text = await clientRegistry.metrics();
      expect(text.match(/^grpc_client_started_total\{[^}]*grpc_method="GetStock"/gm)).toHaveLength(1);
    } finally {
      second.close();
    }
  });
});
