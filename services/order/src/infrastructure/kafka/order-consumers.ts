import { inventoryEventsV1, orderEventsV1, paymentEventsV1 } from '@flash-sale/contracts';
import { decodeBatch, decodeOrDeadLetter, type BatchHandler, type Deferral } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import { saveTraceContext } from '@flash-sale/observability';
import { orderRequestProblem, type OrderRequest } from '../../domain/order';
import type { ExpireOrders } from '../../application/expire-orders';
import type { RecordOrderRequests } from '../../application/record-order-requests';
import type { SettlePayment } from '../../application/settle-payment';

const toRequest = (event: inventoryEventsV1.OrderRequested): OrderRequest => ({
  eventId: event.eventId,
  orderId: event.orderId,
  promotionId: event.promotionId,
  userId: event.userId,
  quantity: event.quantity,
  amountCents: BigInt(event.amountCents),
  reservedAt: event.reserveTime ?? new Date(Number.NaN),
  paymentTimeoutSeconds: event.paymentTimeoutSeconds,
});

const decodeRequest = (bytes: Buffer) => toRequest(inventoryEventsV1.OrderRequested.decode(bytes));

const paymentProblem = (event: paymentEventsV1.PaymentEvent) =>
  event.orderId === '0' || event.paymentId === '0' || event.eventId === '0'
    ? 'event_id, order_id and payment_id must be set'
    : undefined;

/**
 * Routes the order service's input topics: reservations become orders (a whole batch in one transaction, event
 * ids recorded in it), payment outcomes are applied one by one (each a conditional update; the payment service
 * usually applied it already, directly). Poison messages are dead-lettered; anything else that fails is thrown,
 * and the batch comes again after a backoff. Each new order's deadline is saved in its reservation's trace, and
 * each payment is applied in its event's.
 */
export function orderConsumerHandler(
  record: RecordOrderRequests,
  settle: SettlePayment,
  /** The reservations' topic (the mesh's name for `order.requested`); every other topic carries payments. */
  requestsTopic: string,
  logger: Logger,
): BatchHandler {
  return async (messages, context) => {
    if (context.topic === requestsTopic) {
      const requests = await decodeBatch(messages, decodeRequest, context, orderRequestProblem);
      const traced = requests.map(({ message, event }) => ({
        message,
        event: { ...event, traceContext: context.within(message, saveTraceContext) },
      }));
      const created = await record.execute(traced.map(({ event }) => event));
      if (logger.isLevelEnabled('debug')) {
        const byOrder = new Map(traced.map(({ message, event }) => [event.orderId, message]));
        for (const order of created) {
          context.within(byOrder.get(order.id)!, () =>
            logger.debug({ orderId: order.id, promotionId: order.promotionId }, 'order created'),
          );
        }
      }
      return;
    }
    const payments = await decodeBatch(messages, paymentEventsV1.PaymentEvent.decode, context, paymentProblem);
    for (const { message, event } of payments) {
      const kind = event.kind?.$case;
      if (kind !== 'paymentSucceeded' && kind !== 'paymentFailed') continue;
      await context.within(message, () =>
        settle.execute({
          eventId: event.eventId,
          orderId: event.orderId,
          paymentId: event.paymentId,
          result:
            kind === 'paymentSucceeded'
              ? { succeeded: true, paidAt: event.occurTime ?? new Date() }
              : { succeeded: false },
        }),
      );
      await context.heartbeat();
    }
  };
}

const deadlineProblem = (event: orderEventsV1.OrderDeadline) =>
  event.orderId === '0' || !event.expireTime ? 'order_id and expire_time must be set' : undefined;

/**
 * The deadline topic, consumed when due: messages are taken in partition order; the first one whose deadline is
 * still ahead defers the partition until then (kafkajs pause/resume), and everything before it is committed.
 * Deadlines in one partition are roughly in order (they are written as orders are created); one that is behind a
 * later one waits for it, and the periodic sweep bounds that wait.
 */
export function deadlineHandler(
  expire: ExpireOrders,
  logger: Logger,
  clock: () => Date = () => new Date(),
): BatchHandler {
  return async (messages, context): Promise<Deferral | void> => {
    for (const message of messages) {
      const deadline = await decodeOrDeadLetter(message, orderEventsV1.OrderDeadline.decode, context, deadlineProblem);
      if (!deadline) continue;
      if (deadline.expireTime!.getTime() > clock().getTime()) {
        return { fromOffset: message.offset, until: deadline.expireTime! };
      }
      await context.within(message, async () => {
        const result = await expire.expire(deadline.orderId);
        if (result === 'UNKNOWN_ORDER') logger.warn({ orderId: deadline.orderId }, 'deadline of an unknown order');
        // The message said due but the row says otherwise (its deadline moved): the row is the truth.
        if (result === 'NOT_DUE') logger.warn({ orderId: deadline.orderId }, 'deadline message ahead of the order');
      });
      await context.heartbeat();
    }
  };
}
