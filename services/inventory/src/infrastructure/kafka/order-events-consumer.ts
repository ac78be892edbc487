import { orderEventsV1 } from '@flash-sale/contracts';
import { isDomainError } from '@flash-sale/errors';
import { decodeBatch, type BatchHandler } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { SettleReservation } from '../../application/settle-reservation';

/**
 * Settles reservations from order events: a paid order confirms its stock, an expired or cancelled one
 * releases it. Both are idempotent per order, so redelivery and replays change nothing.
 */
export function orderEventsHandler(settle: SettleReservation, logger: Logger): BatchHandler {
  return async (messages, context) => {
    for (const { event } of await decodeBatch(messages, orderEventsV1.OrderEvent.decode, context)) {
      if (!event.kind) continue;
      const settlement =
        event.kind.$case === 'orderPaid'
          ? settle.confirm(event.orderId)
          : event.kind.$case === 'orderExpired' || event.kind.$case === 'orderCancelled'
            ? settle.release(event.orderId)
            : undefined;
      await settlement?.catch((error: unknown) => {
        // A reservation Redis no longer knows cannot be settled here; the reconciler rebuilds from the truth.
        if (isDomainError(error) && error.kind === 'not_found') {
          logger.warn({ orderId: event.orderId, event: event.kind?.$case }, 'no reservation to settle');
          return;
        }
        // A paid order whose units were already released, or that PostgreSQL refuses to count as sold because the
        // sale would be oversold (OVERSELL_REFUSED: Redis let more through than the stock): retrying can never
        // succeed, and blocking the partition would stall every other order. Make it loud: a person must act.
        if (isDomainError(error) && error.kind === 'precondition') {
          logger.error(
            { orderId: event.orderId, reason: error.code, details: error.details, err: error.message },
            'order event cannot settle its reservation',
          );
          return;
        }
        throw error;
      });
    }
  };
}
