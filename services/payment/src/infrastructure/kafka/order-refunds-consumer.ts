import type { KafkaMessage } from 'kafkajs';
import { orderEventsV1 } from '@flash-sale/contracts';
import type { Logger } from '@flash-sale/logging';
import type { RefundPayment } from '../../application/refund-payment';

/** Refunds each payment an OrderRefunded event names; other order events are not the payment service's. */
export function orderRefundsHandler(refund: RefundPayment, logger: Logger) {
  return async (messages: KafkaMessage[]): Promise<void> => {
    for (const message of messages) {
      let event: orderEventsV1.OrderEvent;
      try {
        if (!message.value) continue;
        event = orderEventsV1.OrderEvent.decode(message.value);
      } catch (error) {
        logger.error({ err: error, offset: message.offset }, 'undecodable order event skipped');
        continue;
      }
      if (event.kind?.$case !== 'orderRefunded') continue;
      const done = await refund.execute({
        eventId: event.eventId,
        paymentId: event.kind.value.paymentId,
        reason: 'order no longer payable',
      });
      logger.info(
        { orderId: event.orderId, paymentId: event.kind.value.paymentId, refunded: done },
        'late payment refund',
      );
    }
  };
}
