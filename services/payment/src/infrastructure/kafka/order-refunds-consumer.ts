import { orderEventsV1 } from '@flash-sale/contracts';
import { decodeBatch, type BatchHandler } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { RefundPayment } from '../../application/refund-payment';

/** Refunds each payment an OrderRefunded event names; other order events are not the payment service's. */
export function orderRefundsHandler(refund: RefundPayment, logger: Logger): BatchHandler {
  return async (messages, context) => {
    for (const { event } of await decodeBatch(messages, orderEventsV1.OrderEvent.decode, context)) {
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
