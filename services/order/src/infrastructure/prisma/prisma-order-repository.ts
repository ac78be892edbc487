import type { SqlPool } from '@flash-sale/db';
import type { TopicNames } from '@flash-sale/kafka-kit';
import { saveTraceContext, type TraceCarrier } from '@flash-sale/observability';
import { orderFromRequest, type Order, type OrderRequest } from '../../domain/order';
import type {
  IdGeneratorPort,
  OrderChange,
  OrderRepository,
  StatusCount,
  Transition,
  TransitionResult,
} from '../../application/ports';
import type { Order as OrderRow, Prisma, PrismaClient } from '../../generated/prisma/client';
import { encodeOrderDeadline, encodeOrderEvent } from '../kafka/order-event-codec';

/**
 * The order row is the consumer's record of the event: a reservation's order id is its Snowflake key, carried by
 * every copy of its OrderRequested, so `ON CONFLICT (id) DO NOTHING` makes a redelivery insert nothing and announce
 * nothing (a separate processed-event row would record the same fact a second time).
 */
const CREATE_REQUESTED = `
  WITH inserted AS (
    INSERT INTO orders (id, promotion_id, user_id, quantity, amount_cents, status, created_at, expires_at, updated_at)
    SELECT id::bigint, promotion_id::bigint, user_id, quantity, amount_cents::bigint, 'AWAITING_PAYMENT',
           created_at::timestamptz, expires_at::timestamptz, now()
      FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
           AS r(id, promotion_id, user_id, quantity, amount_cents, created_at, expires_at)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  ), announced AS (
    INSERT INTO outbox (id, topic, key, payload, trace_context)
    SELECT id::bigint, $8::text, key, decode(payload, 'base64'), trace::jsonb
      FROM unnest($9::text[], $10::text[], $11::text[], $12::text[]) AS e(id, key, payload, trace)
     WHERE key::bigint IN (SELECT id FROM inserted)
  )
  SELECT id::text FROM inserted`;

/** Thrown inside a transaction to roll it back when the conditional update found the order in another state. */
class NotInState extends Error {}

export class PrismaOrderRepository implements OrderRepository {
  constructor(
    private readonly db: PrismaClient,
    /** The client's own pool, for the consumer's batch statement. */
    private readonly sql: SqlPool,
    private readonly ids: IdGeneratorPort,
    /** Where the outbox sends order events and deadlines (the mesh's topic names). */
    private readonly topics: Pick<TopicNames, 'OrderEvents' | 'OrderDeadlines'>,
    private readonly onOutboxWrite: () => void = () => undefined,
  ) {}

  /**
   * One statement, so one round trip and one implicit transaction per batch, and one query shape whatever the
   * batch's size (Prisma's createMany plans each size anew, which cost more than the writes themselves): the
   * orders, and for each order actually inserted its deadline. It goes to node-postgres directly (see
   * `createDatabase`), and only the ids of the orders inserted come back: the rest is what was sent.
   */
  async createRequested(requests: OrderRequest[]): Promise<Order[]> {
    const orders = [...new Map(requests.map((request) => [request.orderId, orderFromRequest(request)])).values()];
    // Each deadline continues the trace of its own request (the requests of one batch come from many purchases).
    const traces = new Map(requests.map((request) => [request.orderId, request.traceContext]));
    const deadlines = orders.map((order) => ({
      id: this.ids.next(),
      key: order.id,
      payload: Buffer.from(encodeOrderDeadline(order)).toString('base64'),
      trace: traces.get(order.id),
    }));
    const inserted = await this.sql.query<{ id: string }>(CREATE_REQUESTED, [
      orders.map((order) => order.id),
      orders.map((order) => order.promotionId),
      orders.map((order) => order.userId),
      orders.map((order) => order.quantity),
      orders.map((order) => order.amountCents.toString()),
      orders.map((order) => order.createdAt.toISOString()),
      orders.map((order) => order.expiresAt.toISOString()),
      this.topics.OrderDeadlines,
      deadlines.map((row) => row.id),
      deadlines.map((row) => row.key),
      deadlines.map((row) => row.payload),
      deadlines.map((row) => (row.trace ? JSON.stringify(row.trace) : null)),
    ]);
    if (inserted.length > 0) this.onOutboxWrite();
    const created = new Set(inserted.map((row) => row.id));
    return orders.filter((order) => created.has(order.id));
  }

  async find(id: string): Promise<Order | undefined> {
    const row = await this.db.order.findUnique({ where: { id: BigInt(id) } });
    return row ? toOrder(row) : undefined;
  }

  async listForUser(userId: string, page: { pageSize: number; afterId?: string }) {
    const rows = await this.db.order.findMany({
      where: { userId, ...(page.afterId ? { id: { lt: BigInt(page.afterId) } } : {}) },
      orderBy: { id: 'desc' },
      take: page.pageSize + 1,
    });
    const orders = rows.slice(0, page.pageSize).map(toOrder);
    const last = orders[orders.length - 1];
    return { orders, ...(rows.length > page.pageSize && last ? { nextAfterId: last.id } : {}) };
  }

  async transition(transition: Transition): Promise<TransitionResult> {
    // Taken here, in the caller's context (a gRPC call, a consumed message), for the event the change announces.
    const trace = saveTraceContext();
    try {
      const result = await this.db.$transaction(
        async (tx) => {
          if (transition.boundMs) {
            // Neither a lock wait nor a stalled client can make this commit later than the bound (see Transition).
            const bound = `${transition.boundMs}ms`;
            await tx.$executeRaw`SELECT set_config('statement_timeout', ${bound}, true),
                                      set_config('idle_in_transaction_session_timeout', ${bound}, true)`;
          }
          if (transition.causedBy) {
            const fresh = await tx.processedEvent.createMany({
              data: [{ eventId: BigInt(transition.causedBy) }],
              skipDuplicates: true,
            });
            if (fresh.count === 0) return { duplicate: true } as const;
          }
          const id = BigInt(transition.orderId);
          const updated = await tx.order.updateMany({ where: whereOf(transition), data: dataOf(transition) });
          if (updated.count === 0) throw new NotInState();
          const order = toOrder(await tx.order.findUniqueOrThrow({ where: { id } }));
          if (transition.change) {
            await tx.outboxEvent.create({ data: this.outboxRow(order, transition.change, new Date(), trace) });
          }
          return { applied: order } as const;
        },
        transition.boundMs ? { timeout: transition.boundMs } : undefined,
      );
      if ('applied' in result && transition.change) this.onOutboxWrite();
      return result;
    } catch (error) {
      if (error instanceof NotInState) return { notInState: true };
      throw error;
    }
  }

  async expireOverdue(now: Date, limit: number): Promise<Order[]> {
    const trace = saveTraceContext();
    const expired = await this.db.$transaction(async (tx) => {
      // SKIP LOCKED: rows a concurrent sweeper (another replica) or a payment holds are left to them.
      const rows = await tx.$queryRaw<OrderRow[]>`
        WITH due AS (
          SELECT id FROM orders
           WHERE status = 'AWAITING_PAYMENT' AND expires_at <= ${now}
           ORDER BY expires_at
           LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
        )
        UPDATE orders o SET status = 'EXPIRED', updated_at = now()
          FROM due WHERE o.id = due.id
        RETURNING o.id, o.promotion_id AS "promotionId", o.user_id AS "userId", o.quantity,
                  o.amount_cents AS "amountCents", o.status, o.created_at AS "createdAt",
                  o.expires_at AS "expiresAt", o.paid_at AS "paidAt", o.payment_id AS "paymentId",
                  o.payment_claimed_at AS "paymentClaimedAt"`;
      const orders = rows.map(toOrder);
      const at = new Date();
      await tx.outboxEvent.createMany({
        data: orders.map((order) => this.outboxRow(order, { kind: 'EXPIRED' }, at, trace)),
      });
      return orders;
    });
    if (expired.length > 0) this.onOutboxWrite();
    return expired;
  }

  /** One grouped read on the (promotion_id, status) index. */
  async countByStatus(promotionId: string): Promise<StatusCount[]> {
    const groups = await this.db.order.groupBy({
      by: ['status'],
      where: { promotionId: BigInt(promotionId) },
      _count: { _all: true },
      _sum: { quantity: true },
      _min: { createdAt: true },
      _max: { createdAt: true },
    });
    return groups.map((group) => ({
      status: group.status,
      orders: group._count._all,
      units: group._sum.quantity ?? 0,
      firstCreatedAt: group._min.createdAt!,
      lastCreatedAt: group._max.createdAt!,
    }));
  }

  async earliestDeadline(after: Date): Promise<Date | undefined> {
    const next = await this.db.order.findFirst({
      where: { status: 'AWAITING_PAYMENT', expiresAt: { gt: after } },
      orderBy: { expiresAt: 'asc' },
      select: { expiresAt: true },
    });
    return next?.expiresAt;
  }

  private outboxRow(
    order: Order,
    change: OrderChange,
    at: Date,
    trace: TraceCarrier | undefined,
  ): Prisma.OutboxEventCreateManyInput {
    const id = this.ids.next();
    return {
      id: BigInt(id),
      topic: this.topics.OrderEvents,
      key: order.id,
      payload: Buffer.from(encodeOrderEvent(id, order, change, at)),
      ...(trace ? { traceContext: trace } : {}),
    };
  }
}

function whereOf(transition: Transition): Prisma.OrderWhereInput {
  const deadline = {
    ...(transition.dueBy ? { lte: transition.dueBy } : {}),
    ...(transition.aliveAt ? { gt: transition.aliveAt } : {}),
  };
  return {
    id: BigInt(transition.orderId),
    status: { in: transition.from as OrderRow['status'][] },
    ...(Object.keys(deadline).length > 0 ? { expiresAt: deadline } : {}),
    ...(transition.heldBy ? { paymentId: BigInt(transition.heldBy) } : {}),
  };
}

function dataOf({ to, patch = {} }: Transition): Prisma.OrderUpdateManyMutationInput {
  const id = (value: string | null) => (value === null ? null : BigInt(value));
  return {
    status: to as OrderRow['status'],
    ...(patch.paidAt ? { paidAt: patch.paidAt } : {}),
    ...(patch.paymentId !== undefined ? { paymentId: id(patch.paymentId) } : {}),
    ...(patch.paymentClaimedAt !== undefined ? { paymentClaimedAt: patch.paymentClaimedAt } : {}),
  };
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id.toString(),
    promotionId: row.promotionId.toString(),
    userId: row.userId,
    quantity: row.quantity,
    amountCents: row.amountCents,
    status: row.status,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    ...(row.paidAt ? { paidAt: row.paidAt } : {}),
    ...(row.paymentId !== null ? { paymentId: row.paymentId.toString() } : {}),
    ...(row.paymentClaimedAt ? { paymentClaimedAt: row.paymentClaimedAt } : {}),
  };
}
