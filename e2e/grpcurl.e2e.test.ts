/**
 * The mesh as a gRPC client sees it, with the real grpcurl (scripts/ensure-grpcurl.sh builds it): server reflection
 * on every service port and on the gateway's gRPC front door, and a whole purchase through the door over TLS with a
 * JWT. A machine without grpcurl fails these tests; it does not skip them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mint } from '../scripts/token';
import { LOCAL_PKI_DIR } from '@flash-sale/config';
import { descriptorSetPath, SERVICE_NAMES } from '@flash-sale/contracts';
import { waitFor } from '@flash-sale/testing';
import { newKey, tokenFor } from './http';
import { startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;
const run = promisify(execFile);
const root = join(__dirname, '..');
const INFRASTRUCTURE = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];
/** The public methods (a google.api.http annotation) and, for contrast, an internal one of each service. */
const METHODS: Record<string, { public: string[]; internal: string[] }> = {
  'flashsale.promotion.v1.PromotionService': {
    public: ['CreatePromotion', 'ListPromotions', 'GetPromotion', 'PreheatPromotion'],
    internal: [],
  },
  'flashsale.inventory.v1.InventoryService': {
    public: ['Reserve'],
    internal: ['ReserveBatch', 'Release', 'Confirm', 'PrepareSale', 'GetReservation', 'GetStock'],
  },
  'flashsale.order.v1.OrderService': {
    public: ['ListOrders', 'GetOrder', 'CancelOrder'],
    internal: ['GetBuyerOrder', 'ClaimPayment', 'SettlePayment'],
  },
  'flashsale.payment.v1.PaymentService': { public: ['Pay'], internal: ['GetPayment'] },
};

let grpcurl: string;
let mesh: Mesh;

beforeAll(async () => {
  // Built once per machine from the Go module proxy (about a minute cold), then found in the per-user cache.
  const { stdout } = await run('bash', [join(root, 'scripts', 'ensure-grpcurl.sh')], { timeout: 600_000 });
  grpcurl = stdout.trim();
  mesh = await startMesh();
}, 660_000);

afterAll(async () => {
  await mesh?.stop();
});

interface Outcome {
  ok: boolean;
  stdout: string;
  stderr: string;
}

async function call(args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(grpcurl, ['-max-time', '20', ...args], { cwd: root });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function succeed(args: string[]): Promise<string> {
  const outcome = await call(args);
  if (!outcome.ok) throw new Error(`grpcurl ${args.join(' ')} failed:\n${outcome.stderr}${outcome.stdout}`);
  return outcome.stdout;
}

/**
 * A service port, as a workload of the mesh calls it: mutual TLS with the gateway's certificate. Services are
 * named by their SPIFFE ID, not by an address, so grpcurl does not check the server's name (`-insecure`); the server
 * still checks ours.
 */
const meshTls = (address: string) => [
  '-insecure',
  '-cert',
  join(LOCAL_PKI_DIR, 'gateway', 'tls.crt'),
  '-key',
  join(LOCAL_PKI_DIR, 'gateway', 'tls.key'),
  address,
];
/** The door, as an outside client calls it: TLS verified against the local CA, the address as the server name. */
const doorTls = (...headers: string[]) => [
  '-cacert',
  join(LOCAL_PKI_DIR, 'ca.crt'),
  ...headers.flatMap((header) => ['-H', header]),
  mesh.door,
];
const bearer = (token: string) => `authorization: Bearer ${token}`;
/** Calls a door method with a JSON request, as `user` (with a token of theirs) plus any further headers. */
async function viaDoor(method: string, request: Json, ...headers: string[]): Promise<Outcome> {
  return call(['-d', JSON.stringify(request), ...doorTls(...headers), method]);
}
/**
 * The ErrorInfo reason of a refusal grpcurl printed. It prints the detail's bytes (reflection does not describe
 * google.rpc types): ErrorInfo is `reason = 1, domain = 2`, so a short reason is its bytes from the third on.
 */
function reasonOf(outcome: Outcome): string {
  const value = /"@type": "type\.googleapis\.com\/google\.rpc\.ErrorInfo",\s*"@value": "([^"]+)"/.exec(outcome.stderr);
  if (!value) throw new Error(`no ErrorInfo in:\n${outcome.stderr}`);
  const bytes = Buffer.from(value[1]!, 'base64');
  const reason = bytes.subarray(2, 2 + bytes[1]!).toString();
  const domain = bytes.subarray(4 + bytes[1]!, 4 + bytes[1]! + bytes[3 + bytes[1]!]!).toString();
  return `${domain}/${reason}`;
}
const json = async (outcome: Promise<Outcome>): Promise<Json> => {
  const done = await outcome;
  if (!done.ok) throw new Error(`grpcurl failed:\n${done.stderr}${done.stdout}`);
  return JSON.parse(done.stdout) as Json;
};

describe('server reflection on each service port', () => {
  const ports = () => ({
    'flashsale.promotion.v1.PromotionService': mesh.addresses.PROMOTION_ADDR,
    'flashsale.inventory.v1.InventoryService': mesh.addresses.INVENTORY_ADDR,
    'flashsale.order.v1.OrderService': mesh.addresses.ORDER_ADDR,
    'flashsale.payment.v1.PaymentService': mesh.addresses.PAYMENT_ADDR,
  });

  it.each(SERVICE_NAMES.map((name) => [name]))(
    'when grpcurl lists %s, then it sees that service, health and reflection only',
    async (service) => {
      const listed = (await succeed([...meshTls(ports()[service]), 'list'])).trim().split('\n');
      expect(listed.sort()).toEqual([service, ...INFRASTRUCTURE].sort());
    },
  );

  it.each(SERVICE_NAMES.map((name) => [name]))(
    'when grpcurl describes %s, then every method resolves with its imports',
    async (service) => {
      const address = ports()[service];
      const described = await succeed([...meshTls(address), 'describe', service]);
      for (const method of [...METHODS[service]!.public, ...METHODS[service]!.internal]) {
        expect(described).toContain(`rpc ${method} (`);
      }
      // Every message of every method, with its well-known types and options, resolves (grpcurl fails otherwise).
      for (const method of METHODS[service]!.public) {
        const rpc = await succeed([...meshTls(address), 'describe', `${service}.${method}`]);
        expect(rpc).toContain('option (.google.api.http)');
        const input = /rpc \w+ \( \.([\w.]+) \)/.exec(rpc)![1]!;
        await succeed(['-msg-template', ...meshTls(address), 'describe', input]);
      }
    },
  );

  it('when a message has a Timestamp or a map, then its description resolves them', async () => {
    const promotion = await succeed([
      ...meshTls(mesh.addresses.PROMOTION_ADDR),
      'describe',
      'flashsale.promotion.v1.Promotion',
    ]);
    expect(promotion).toContain('.google.protobuf.Timestamp starts_at');
    const result = await succeed([
      ...meshTls(mesh.addresses.INVENTORY_ADDR),
      'describe',
      'flashsale.inventory.v1.ReserveFailure',
    ]);
    expect(result).toContain('map<string, string>');
  });

  it('when health is checked through reflection, then the service is SERVING', async () => {
    const reply = await succeed([...meshTls(mesh.addresses.ORDER_ADDR), 'grpc.health.v1.Health/Check']);
    expect(JSON.parse(reply)).toEqual({ status: 'SERVING' });
  });
});

describe('the gRPC front door', () => {
  it('when grpcurl lists the door, then it sees the four public services, health and reflection', async () => {
    const listed = (await succeed([...doorTls(), 'list'])).trim().split('\n');
    expect(listed.sort()).toEqual([...SERVICE_NAMES, ...INFRASTRUCTURE].sort());
    expect(JSON.parse(await succeed([...doorTls(), 'grpc.health.v1.Health/Check']))).toEqual({ status: 'SERVING' });
  });

  it.each(SERVICE_NAMES.map((name) => [name]))(
    'when grpcurl describes %s at the door, then it shows the public methods only',
    async (service) => {
      const described = await succeed([...doorTls(), 'describe', service]);
      for (const method of METHODS[service]!.public) expect(described).toContain(`rpc ${method} (`);
      for (const method of METHODS[service]!.internal) expect(described).not.toContain(`rpc ${method} (`);
    },
  );

  it('when an admin creates a sale and a buyer purchases, reads the order and pays, all through the door, then the order is PAID', async () => {
    const admin = bearer(await tokenFor('admin-door', true));
    const created = await json(
      viaDoor(
        'flashsale.promotion.v1.PromotionService/CreatePromotion',
        {
          itemId: 'sku-door',
          title: 'Door item',
          priceCents: '1500',
          stock: 2,
          perUserLimit: 1,
          startsAt: new Date(Date.now() - 1_000).toISOString(),
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          paymentTimeoutSeconds: 600,
        },
        admin,
      ),
    );
    const promotionId = (created.promotion as Json).promotionId as string;
    expect(promotionId).toMatch(/^\d+$/);

    const buyer = bearer(await tokenFor('buyer-door'));
    const key = newKey();
    const purchase = { promotionId, quantity: 1, idempotencyKey: key };
    // The client's own identity metadata is dropped: the order is the JWT's user's.
    const reserved = await json(
      viaDoor(
        'flashsale.inventory.v1.InventoryService/Reserve',
        purchase,
        buyer,
        'x-user-id: mallory',
        'x-user-roles: admin',
      ),
    );
    const orderId = reserved.orderId as string;
    expect(orderId).toMatch(/^\d+$/);
    // The same key and request: the same order, answered again.
    expect(await json(viaDoor('flashsale.inventory.v1.InventoryService/Reserve', purchase, buyer))).toEqual(reserved);

    const order = await waitFor(
      async () => {
        const read = await json(viaDoor('flashsale.order.v1.OrderService/GetOrder', { orderId }, buyer));
        const found = read.order as Json;
        return found.status === 'ORDER_STATUS_AWAITING_PAYMENT' && found;
      },
      { what: 'the order awaiting payment' },
    );
    expect(order).toMatchObject({ orderId, promotionId, userId: 'buyer-door', quantity: 1, amountCents: '1500' });
    // Another user cannot read it, whatever metadata they send.
    const stranger = bearer(await tokenFor('stranger-door'));
    const hidden = await viaDoor(
      'flashsale.order.v1.OrderService/GetOrder',
      { orderId },
      stranger,
      'x-user-id: buyer-door',
    );
    expect(hidden.ok).toBe(false);
    expect(hidden.stderr).toMatch(/Code: NotFound/);

    const paid = await json(
      viaDoor('flashsale.payment.v1.PaymentService/Pay', { orderId, idempotencyKey: newKey() }, buyer),
    );
    expect(paid).toMatchObject({ orderStatus: 'ORDER_STATUS_PAID', payment: { orderId, amountCents: '1500' } });
  });

  it('when a call carries no token or a forged one, then it is UNAUTHENTICATED with an ErrorInfo reason', async () => {
    const method = 'flashsale.order.v1.OrderService/ListOrders';
    const missing = await viaDoor(method, {});
    expect(missing.ok).toBe(false);
    expect(missing.stderr).toMatch(/Code: Unauthenticated/);
    expect(reasonOf(missing)).toBe('flashsale/UNAUTHENTICATED');

    const forged = await mint('buyer-door', { key: 'not-the-gateway-secret-0123456789abcdef' });
    const refused = await viaDoor(method, {}, bearer(forged));
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/Code: Unauthenticated/);
    expect(reasonOf(refused)).toBe('flashsale/INVALID_TOKEN');
  });

  it('when a buyer calls an admin method, then it is PERMISSION_DENIED', async () => {
    const buyer = bearer(await tokenFor('buyer-door'));
    const denied = await viaDoor(
      'flashsale.promotion.v1.PromotionService/PreheatPromotion',
      { promotionId: '1' },
      buyer,
    );
    expect(denied.stderr).toMatch(/Code: PermissionDenied/);
    expect(reasonOf(denied)).toBe('flashsale/FORBIDDEN');
  });

  it('when a purchase has no idempotency key, then it is INVALID_ARGUMENT', async () => {
    const buyer = bearer(await tokenFor('buyer-door'));
    const refused = await viaDoor(
      'flashsale.inventory.v1.InventoryService/Reserve',
      { promotionId: '1', quantity: 1 },
      buyer,
    );
    expect(refused.stderr).toMatch(/Code: InvalidArgument/);
    expect(reasonOf(refused)).toBe('flashsale/IDEMPOTENCY_KEY_REQUIRED');
  });

  it('when an internal method is called at the door, even with an admin token, then it is UNIMPLEMENTED', async () => {
    const admin = bearer(await tokenFor('admin-door', true));
    // The door's reflection does not describe it, so the client takes its shape from the mesh's own descriptors.
    for (const method of [
      'flashsale.inventory.v1.InventoryService/ReserveBatch',
      'flashsale.inventory.v1.InventoryService/PrepareSale',
      'flashsale.order.v1.OrderService/ClaimPayment',
      'flashsale.payment.v1.PaymentService/GetPayment',
    ]) {
      const refused = await call(['-protoset', descriptorSetPath, '-d', '{}', ...doorTls(admin), method]);
      expect(refused.ok).toBe(false);
      expect(refused.stderr).toMatch(/Code: Unimplemented/);
    }
  });
});
