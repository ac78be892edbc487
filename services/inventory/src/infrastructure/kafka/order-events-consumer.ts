import { orderEventsV1 } from '@flash-sale/contracts';
import { isDomainError } from '@flash-sale/errors';
import { decodeBatch, type BatchHandler } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { SettleReservation } from '../../application/settle-reservation';

/**
 * Settles reservations from order events: a paid order confirms its stock, an expired or cancelled one
 * releases it. Both are idempotent per order, so redelivery and replays change nothing. Each event is settled in
 * its own trace (the one of the call that paid, cancelled or expired the order).
 */
export function orderEventsHandler(
  settle: SettleReservation,
  logger: Logger,
  refused: (reason: string) => void = () => undefined,
): BatchHandler {
  return async (messages, context) => {
    for (const { message, event } of await decodeBatch(messages, orderEventsV1.OrderEvent.decode, context)) {
      await context.within(message, () => settleFrom(event, settle, logger, refused));
    }
  };
}

async function settleFrom(
  event: orderEventsV1.OrderEvent,
  settle: SettleReservation,
  logger: Logger,
  refused: (reason: string) => void,
) {
  if (!event.kind) return;
  const kind = event.kind.$case;
  const settlement =
    kind === 'orderPaid'
      ? settle.confirm(event.orderId)
      : kind === 'orderExpired' || kind === 'orderCancelled'
        ? settle.release(event.orderId)
        : undefined;
  if (!settlement) return;
  await settlement.then(
    (changed) =>
      logger.debug(
        { orderId: event.orderId, changed },
        kind === 'orderPaid' ? 'reservation confirmed' : 'reservation released',
      ),
    (error: unknown) => {
      // A reservation Redis no longer knows cannot be settled here; the reconciler rebuilds from the truth.
      if (isDomainError(error) && error.kind === 'not_found') {
        logger.warn({ orderId: event.orderId, event: kind }, 'no reservation to settle');
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
        refused(error.code);
        return;
      }
      throw error;
    },
  );
}
