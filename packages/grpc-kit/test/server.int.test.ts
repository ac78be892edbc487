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
  readFailure,
  startGrpcServer,
  unary,
  type RunningGrpcServer,
} from '../src';

const logger = createLogger({ service: 'grpc-kit-test', level: 'silent' });
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

beforeAll(async () => {
  const unimplemented = () => async () => {
    throw new Error('not used');
  };
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    descriptorSetPath,
    logger,
    services: [
      {
        name: 'flashsale.inventory.v1.InventoryService',
        definition: inventoryV1.InventoryServiceService,
        implementation: {
          getStock: unary('GetStock', logger, async (request: inventoryV1.GetStockRequest) => {
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
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.shutdown(1_000);
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
    const health = createHealthClient(address);
    expect(await isServing(health)).toBe(true);
    expect(await isServing(health, 'flashsale.inventory.v1.InventoryService')).toBe(true);
    expect(await isServing(health, 'no.such.Service')).toBe(false);
    health.close();
  });

  it('when a handler throws a domain error, then the client gets its status, message and ErrorInfo reason', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, address);
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
    const client = createClient(inventoryV1.InventoryServiceClient, address);
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
