/**
 * Model-based property test: random sequences of reserve (with retried keys), release, confirm and "Redis lost,
 * rebuilt from the ledger" run against the real Lua scripts in Redis and against a few lines of in-memory
 * model; every reply and the final counters must agree.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { infra } from '@flash-sale/testing';
import type { LedgerEntry } from '../src/domain/ledger';
import type { ReservationStatus } from '../src/domain/reservation';
import { saleKeys } from '../src/domain/sale-keys';
import { RedisStockCache } from '../src/infrastructure/redis/redis-stock-cache';
import { newId } from './support';

const redis = new Redis(infra.redisUrl);
const cache = new RedisStockCache(redis);
afterAll(() => redis.disconnect());

const PRICE = 700n;
const LIMIT = 3;

type Command =
  | { kind: 'reserve'; user: number; quantity: number; key: number }
  | { kind: 'release' | 'confirm'; pick: number }
  | { kind: 'rebuild' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      user: fc.nat(3),
      quantity: fc.integer({ min: 1, max: 4 }),
      key: fc.nat(2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rebuild' as const }) },
);

/** What the scripts are meant to do, with none of the how. */
class Model {
  readonly held = new Map<string, number>();
  readonly keys = new Map<string, string>();
  readonly orders = new Map<string, LedgerEntry>();
  constructor(
    public stock: number,
    private readonly promotionId: string,
  ) {}

  reserve(user: string, quantity: number, key: string, orderId: string) {
    const previous = this.keys.get(`${user}:${key}`);
    if (previous) return { outcome: 'REPLAYED', orderId: previous };
    if ((this.held.get(user) ?? 0) + quantity > LIMIT) return { outcome: 'PURCHASE_LIMIT_REACHED' };
    if (this.stock <= 0) return { outcome: 'SOLD_OUT' };
    if (this.stock < quantity) return { outcome: 'INSUFFICIENT_STOCK' };
    this.stock -= quantity;
    this.held.set(user, (this.held.get(user) ?? 0) + quantity);
    this.keys.set(`${user}:${key}`, orderId);
    const entry = {
      orderId,
      promotionId: this.promotionId,
      userId: user,
      quantity,
      amountCents: PRICE * BigInt(quantity),
    };
    this.orders.set(orderId, { ...entry, status: 'RESERVED', reservedAtMs: Date.now(), idempotencyKey: key });
    return { outcome: 'RESERVED', orderId };
  }

  settle(orderId: string, to: ReservationStatus) {
    const order = this.orders.get(orderId);
    if (!order) return 'UNKNOWN';
    if (order.status !== 'RESERVED') return order.status;
    order.status = to;
    if (to === 'RELEASED') {
      this.stock += order.quantity;
      this.held.set(order.userId, this.held.get(order.userId)! - order.quantity);
    }
    return 'DONE';
  }
}

async function redisState(promotionId: string) {
  const k = saleKeys(promotionId);
  const held = Object.entries(await redis.hgetall(k.users)).filter(([, units]) => units !== '0');
  const statuses = Object.entries(await redis.hgetall(k.reservations)).map(([id, raw]) => [id, JSON.parse(raw).s]);
  return {
    stock: Number(await redis.get(k.stock)),
    held: Object.fromEntries(held),
    statuses: Object.fromEntries(statuses),
  };
}

const CODE: Record<ReservationStatus, string> = { RESERVED: 'R', RELEASED: 'X', CONFIRMED: 'C' };

describe('stock scripts against a model', () => {
  it('agree with the model on every reply and on the final counters, for any sequence of commands', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(command, { maxLength: 40 }),
        async (stock, commands) => {
          const promotionId = newId();
          const now = Date.now();
          const terms = {
            promotionId,
            priceCents: PRICE,
            totalStock: stock,
            perUserLimit: LIMIT,
            startsAt: new Date(now - 60_000),
            endsAt: new Date(now + 3_600_000),
            paymentTimeoutSeconds: 60,
          };
          await cache.rebuild(terms, []);
          const model = new Model(stock, promotionId);
          const orderIds: string[] = [];

          for (const c of commands) {
            if (c.kind === 'reserve') {
              const [user, key, fresh] = [`u${c.user}`, `k${c.key}`, newId()];
              const expected = model.reserve(user, c.quantity, key, fresh);
              const actual = await cache.reserve({
                promotionId,
                userId: user,
                quantity: c.quantity,
                idempotencyKey: key,
                orderId: fresh,
                eventId: newId(),
              });
              expect(
                actual.outcome === 'REJECTED'
                  ? { outcome: actual.rejection }
                  : { outcome: actual.outcome, orderId: actual.orderId },
              ).toEqual(expected);
              if (expected.outcome === 'RESERVED') orderIds.push(fresh);
            } else if (c.kind === 'rebuild') {
              // Redis lost the sale; the ledger (the model's orders) brings it back.
              await redis.del(...Object.values(saleKeys(promotionId)));
              await cache.rebuild(terms, [...model.orders.values()]);
            } else {
              const orderId = orderIds.length > 0 ? orderIds[c.pick % orderIds.length]! : newId();
              const expected = model.settle(orderId, c.kind === 'release' ? 'RELEASED' : 'CONFIRMED');
              if (c.kind === 'release') {
                const actual = await cache.release(promotionId, orderId);
                expect(actual.outcome).toBe(
                  { DONE: 'RELEASED', UNKNOWN: 'UNKNOWN' }[expected as string] ?? 'ALREADY_SETTLED',
                );
              } else {
                const actual = await cache.confirm(promotionId, orderId);
                expect(actual).toBe(
                  { DONE: 'CONFIRMED', UNKNOWN: 'UNKNOWN', CONFIRMED: 'ALREADY_CONFIRMED', RELEASED: 'RELEASED' }[
                    expected as string
                  ],
                );
              }
            }
            expect(model.stock).toBeGreaterThanOrEqual(0);
          }

          const held = Object.fromEntries(
            [...model.held].filter(([, units]) => units !== 0).map(([u, n]) => [u, String(n)]),
          );
          const statuses = Object.fromEntries([...model.orders.values()].map((o) => [o.orderId, CODE[o.status]]));
          expect(await redisState(promotionId)).toEqual({ stock: model.stock, held, statuses });
          await redis.del(...Object.values(saleKeys(promotionId)));
        },
      ),
      { numRuns: 150 },
    );
  });
});
