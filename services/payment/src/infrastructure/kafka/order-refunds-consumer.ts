import { orderEventsV1 } from '@flash-sale/contracts';
import { decodeBatch, type BatchHandler } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { RefundPayment } from '../../application/refund-payment';

/**
 * Refunds each payment an OrderRefunded event names, with the order's reason, in the event's trace; every refund
 * is counted (by `onRefund`) and logged with why. Other order events are not the payment service's.
 */
export function orderRefundsHandler(
  refund: RefundPayment,
  logger: Logger,
  onRefund: (reason: string) => void = () => undefined,
): BatchHandler {
  return async (messages, context) => {
    for (const { message, event } of await decodeBatch(messages, orderEventsV1.OrderEvent.decode, context)) {
      if (event.kind?.$case !== 'orderRefunded') continue;
      const { paymentId } = event.kind.value;
      const reason = event.kind.value.reason || 'order no longer payable';
      await context.within(message, async () => {
        const done = await refund.execute({ eventId: event.eventId, paymentId, reason });
        if (done) onRefund(reason);
        logger.warn({ orderId: event.orderId, paymentId, refunded: done, reason }, 'payment refund');
      });
    }
  };
}
