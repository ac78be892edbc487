import type { TopicNames } from '@flash-sale/kafka-kit';
import { saveTraceContext, type TraceCarrier } from '@flash-sale/observability';
import type { Payment, PaymentFailureCode } from '../../domain/payment';
import type { ChargeResult, IdGenerator, PaymentRepository, StartResult } from '../../application/ports';
import { Prisma, type Payment as PaymentRow, type PrismaClient } from '../../generated/prisma/client';
import { encodePaymentEvent } from '../kafka/payment-event-codec';

const UNIQUE_VIOLATION = 'P2002';

export class PrismaPaymentRepository implements PaymentRepository {
  constructor(
    private readonly db: PrismaClient,
    private readonly ids: IdGenerator,
    /** Where the outbox sends payment events (the mesh's topic names). */
    private readonly topics: Pick<TopicNames, 'PaymentEvents'>,
    private readonly onOutboxWrite: () => void = () => undefined,
    /** Hears each payment as it leaves PENDING or is refunded, once (the sale's figures count outcomes). */
    private readonly onSettled: (payment: Payment) => void = () => undefined,
  ) {}

  async findByKey(orderId: string, idempotencyKey: string) {
    const row = await this.db.payment.findUnique({
      where: { orderId_idempotencyKey: { orderId: BigInt(orderId), idempotencyKey } },
    });
    return row ? toPayment(row) : undefined;
  }

  async find(id: string) {
    const row = await this.db.payment.findUnique({ where: { id: BigInt(id) } });
    return row ? toPayment(row) : undefined;
  }

  async start(payment: Payment): Promise<StartResult> {
    // Two rounds at most: the live payment that refused us may fail before we read it, and then we may go.
    for (let round = 0; round < 2; round += 1) {
      try {
        await this.db.payment.create({
          data: {
            id: BigInt(payment.id),
            orderId: BigInt(payment.orderId),
            userId: payment.userId,
            amountCents: payment.amountCents,
            status: 'PENDING',
            idempotencyKey: payment.idempotencyKey,
            createdAt: payment.createdAt,
            attemptedAt: payment.attemptedAt,
          },
        });
        return { started: true };
      } catch (error) {
        if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== UNIQUE_VIOLATION) throw error;
      }
      const existing =
        (await this.findByKey(payment.orderId, payment.idempotencyKey)) ??
        (await this.db.payment
          .findFirst({ where: { orderId: BigInt(payment.orderId), status: { not: 'FAILED' } } })
          .then((row) => (row ? toPayment(row) : undefined)));
      if (existing) return { started: false, existing };
    }
    throw new Error(`payment of order ${payment.orderId} could not start: its order kept changing`);
  }

  async stalePending(before: Date, limit: number): Promise<Payment[]> {
    const rows = await this.db.payment.findMany({
      where: { status: 'PENDING', attemptedAt: { lt: before } },
      orderBy: { attemptedAt: 'asc' },
      take: limit,
    });
    return rows.map(toPayment);
  }

  async complete(
    paymentId: string,
    result: ChargeResult,
    at: Date,
    failureCode: PaymentFailureCode = 'PAYMENT_DECLINED',
  ): Promise<Payment> {
    const id = BigInt(paymentId);
    const trace = saveTraceContext();
    const payment = await this.db.$transaction(async (tx) => {
      const updated = await tx.payment.updateMany({
        where: { id, status: 'PENDING' },
        data: result.ok
          ? { status: 'SUCCEEDED', providerReference: result.reference, completedAt: at }
          : { status: 'FAILED', failureReason: result.reason, failureCode, completedAt: at },
      });
      const row = toPayment(await tx.payment.findUniqueOrThrow({ where: { id } }));
      // Only the attempt that moved it out of PENDING announces it; a concurrent one returns the stored result.
      if (updated.count === 1) await tx.outboxEvent.create({ data: this.outboxRow(row, at, trace) });
      return { row, announced: updated.count === 1 };
    });
    if (payment.announced) {
      this.onOutboxWrite();
      this.onSettled(payment.row);
    }
    return payment.row;
  }

  async markRefunded(paymentId: string, reason: string, at: Date, causedBy: string): Promise<Payment | undefined> {
    const id = BigInt(paymentId);
    const trace = saveTraceContext();
    const result = await this.db.$transaction(async (tx) => {
      const fresh = await tx.processedEvent.createMany({ data: [{ eventId: BigInt(causedBy) }], skipDuplicates: true });
      if (fresh.count === 0) return undefined;
      const updated = await tx.payment.updateMany({
        where: { id, status: 'SUCCEEDED' },
        data: { status: 'REFUNDED', refundedAt: at },
      });
      if (updated.count === 0) return undefined;
      const row = toPayment(await tx.payment.findUniqueOrThrow({ where: { id } }));
      await tx.outboxEvent.create({ data: this.outboxRow(row, at, trace, reason) });
      return row;
    });
    if (result) {
      this.onOutboxWrite();
      this.onSettled(result);
    }
    return result;
  }

  /** `trace`: the context of the call that made the change (taken before its transaction), for the relay. */
  private outboxRow(
    payment: Payment,
    at: Date,
    trace: TraceCarrier | undefined,
    refundReason?: string,
  ): Prisma.OutboxEventCreateInput {
    const id = this.ids.next();
    return {
      id: BigInt(id),
      topic: this.topics.PaymentEvents,
      key: payment.orderId,
      payload: Buffer.from(encodePaymentEvent(id, payment, at, refundReason)),
      ...(trace ? { traceContext: trace } : {}),
    };
  }
}

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id.toString(),
    orderId: row.orderId.toString(),
    userId: row.userId,
    amountCents: row.amountCents,
    status: row.status,
    idempotencyKey: row.idempotencyKey,
    createdAt: row.createdAt,
    attemptedAt: row.attemptedAt,
    ...(row.providerReference ? { providerReference: row.providerReference } : {}),
    ...(row.failureReason ? { failureReason: row.failureReason } : {}),
    ...(row.failureCode ? { failureCode: row.failureCode as PaymentFailureCode } : {}),
    ...(row.completedAt ? { completedAt: row.completedAt } : {}),
    ...(row.refundedAt ? { refundedAt: row.refundedAt } : {}),
  };
}
