/**
 * The inventory service as it runs in the mesh (its own process, mTLS on, the real allow-list), called by each
 * kind of caller: the refusals come back as PERMISSION_DENIED with an ErrorInfo reason, each leaves a warn line in
 * the service's log and a count in its metrics, and a client without a certificate never gets a connection.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { LOCAL_PKI_DIR } from '@flash-sale/config';
import { inventoryV1 } from '@flash-sale/contracts';
import { callerMetadata, callUnary, createClient, readFailure, type CallFailure } from '@flash-sale/grpc-kit';
import {
  meshClient,
  serviceEnv,
  startServiceProcess,
  testTransport,
  waitFor,
  type ServiceProcess,
} from '@flash-sale/testing';
import { newSale, reserve, type InventoryClient } from './support';

let service: ServiceProcess;
let address: string;
let client: InventoryClient;

beforeAll(async () => {
  service = await startServiceProcess(
    'inventory',
    'services/inventory/src/main.ts',
    serviceEnv('inventory', { METRICS_PORT: '0' }),
  );
  address = `127.0.0.1:${service.port}`;
  client = meshClient(inventoryV1.InventoryServiceClient, address);
}, 90_000);

afterAll(async () => {
  client?.close();
  await service?.kill('SIGTERM');
});

const logLines = () =>
  readFileSync(service.logPath, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const logLine = (message: string, fields: Record<string, unknown>) =>
  waitFor(
    async () =>
      logLines().find(
        (line) => String(line.msg).startsWith(message) && Object.entries(fields).every(([k, v]) => line[k] === v),
      ),
    { what: `the log line "${message}" with ${JSON.stringify(fields)}`, timeoutMs: 5_000 },
  );

async function deniedCount(labels: string): Promise<number> {
  const { port } = (await logLine('metrics listening', {})) as { port: number };
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('grpc_server_authorization_denied_total{') && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function failure(call: Promise<unknown>): Promise<CallFailure> {
  try {
    await call;
  } catch (error) {
    return readFailure(error as ServiceError);
  }
  throw new Error('the call succeeded');
}

describe('the inventory service in the mesh', () => {
  it('when the gateway reserves for a buyer it names in the metadata, then the reservation is counted against that buyer', async () => {
    const promotionId = await newSale(client, { stock: 5, perUserLimit: 1 });

    const first = await reserve(client, promotionId, 'buyer-a', 1, 'k1');
    const again = await reserve(client, promotionId, 'buyer-a', 1, 'k2');

    expect(first.ok).toBe(true);
    // The limit is per buyer: the second purchase was counted against the same, named, buyer.
    expect(again).toMatchObject({ ok: false, failure: { info: { reason: 'PURCHASE_LIMIT_REACHED' } } });
  });

  it('when the payment service calls ReserveBatch, which only the gateway may, then PERMISSION_DENIED CALLER_NOT_ALLOWED, logged and counted', async () => {
    const asPayment = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      testTransport('payment').client('inventory'),
    );
    try {
      const refused = await failure(callUnary(asPayment.reserveBatch, asPayment, { items: [] }, { timeoutMs: 5_000 }));

      expect(refused).toMatchObject({
        code: status.PERMISSION_DENIED,
        info: { reason: 'CALLER_NOT_ALLOWED', domain: 'flashsale' },
      });
      expect(
        await logLine('grpc call denied', {
          level: 'warn',
          reason: 'CALLER_NOT_ALLOWED',
          caller: 'payment',
          method: 'flashsale.inventory.v1.InventoryService/ReserveBatch',
        }),
      ).toBeDefined();
      expect(
        await deniedCount(
          'method="flashsale.inventory.v1.InventoryService/ReserveBatch",reason="CALLER_NOT_ALLOWED",caller="payment"',
        ),
      ).toBe(1);
    } finally {
      asPayment.close();
    }
  });

  it('when a service that is not a front sends caller metadata, then its call is refused with CALLER_METADATA_REFUSED', async () => {
    const asPromotion = createClient(
      inventoryV1.InventoryServiceClient,
      address,
      testTransport('promotion').client('inventory'),
    );
    try {
      const metadata = callerMetadata({ userId: 'buyer-b', roles: ['admin'] }, new Metadata());
      const refused = await failure(
        callUnary(asPromotion.getStock, asPromotion, { promotionId: '1' }, { timeoutMs: 5_000, metadata }),
      );

      expect(refused).toMatchObject({ code: status.PERMISSION_DENIED, info: { reason: 'CALLER_METADATA_REFUSED' } });
      expect(
        await logLine('grpc call denied', { reason: 'CALLER_METADATA_REFUSED', caller: 'promotion' }),
      ).toBeDefined();
      expect(await deniedCount('reason="CALLER_METADATA_REFUSED",caller="promotion"')).toBe(1);
    } finally {
      asPromotion.close();
    }
  });

  it('when a client has no certificate, then it gets no connection and the service logs why', async () => {
    const ca = readFileSync(`${LOCAL_PKI_DIR}/ca.crt`);
    const anonymous = createClient(inventoryV1.InventoryServiceClient, address, {
      credentials: credentials.createSsl(ca, null, null, { checkServerIdentity: () => undefined }),
      options: { 'grpc.ssl_target_name_override': 'inventory' },
    });
    try {
      const refused = await failure(
        callUnary(anonymous.getStock, anonymous, { promotionId: '1' }, { timeoutMs: 5_000 }),
      );

      expect(refused.code).toBe(status.UNAVAILABLE);
      expect(
        await logLine('mTLS connection refused', { level: 'warn', reason: 'NO_CLIENT_CERTIFICATE' }),
      ).toMatchObject({ msg: 'mTLS connection refused: the client presented no certificate' });
    } finally {
      anonymous.close();
    }
  });
});
