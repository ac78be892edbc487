import type { KafkaMessage } from 'kafkajs';
import { inventoryEventsV1, paymentEventsV1 } from '@flash-sale/contracts';
import { Topics, type BatchContext } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { OrderRequest } from '../../domain/order';
import type { ApplyPayment } from '../../application/apply-payment';
import type { RecordOrderRequests } from '../../application/record-order-requests';

function decodeAll<T>(messages: KafkaMessage[], decode: (bytes: Uint8Array) => T, logger: Logger, topic: string): T[] {
  const decoded: T[] = [];
  for (const message of messages) {
    try {
      if (message.value) decoded.push(decode(message.value));
    } catch (error) {
      logger.error({ err: error, topic, offset: message.offset }, 'undecodable event skipped');
    }
  }
  return decoded;
}

const toRequest = (event: inventoryEventsV1.OrderRequested): OrderRequest => ({
  eventId: event.eventId,
  orderId: event.orderId,
  promotionId: event.promotionId,
  userId: event.userId,
  quantity: event.quantity,
  amountCents: BigInt(event.amountCents),
  reservedAt: event.reserveTime ?? new Date(),
  paymentTimeoutSeconds: event.paymentTimeoutSeconds,
});

/**
 * Routes the order service's input topics: reservations become orders (a whole batch in one transaction),
 * captured payments are applied one by one (each a conditional update).
 */
export function orderConsumerHandler(record: RecordOrderRequests, applyPayment: ApplyPayment, logger: Logger) {
  return async (messages: KafkaMessage[], context: BatchContext): Promise<void> => {
    if (context.topic === Topics.OrderRequested) {
      const requests = decodeAll(
        messages,
        (bytes) => inventoryEventsV1.OrderRequested.decode(bytes),
        logger,
        context.topic,
      );
      await record.execute(requests.map(toRequest));
      return;
    }
    if (context.topic === Topics.PaymentEvents) {
      for (const event of decodeAll(
        messages,
        (bytes) => paymentEventsV1.PaymentEvent.decode(bytes),
        logger,
        context.topic,
      )) {
        if (event.kind?.$case !== 'paymentSucceeded') continue;
        await applyPayment.execute({
          eventId: event.eventId,
          orderId: event.orderId,
          paymentId: event.paymentId,
          paidAt: event.occurTime ?? new Date(),
        });
        await context.heartbeat();
      }
    }
  };
}
