import { inventoryEventsV1 } from '@flash-sale/contracts';
import { decodeBatch, type BatchHandler } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { LedgerEntry } from '../../domain/ledger';
import type { SaleRepository } from '../../application/ports';

/**
 * Records every accepted reservation in the PostgreSQL ledger, from inventory's own `order.requested` events
 * (the Redis outbox, relayed). A batch is one insert; redeliveries insert nothing.
 */
export function ledgerHandler(sales: SaleRepository, logger: Logger): BatchHandler {
  return async (messages, context) => {
    const events = await decodeBatch(messages, inventoryEventsV1.OrderRequested.decode, context);
    const entries = events.map(({ event }): LedgerEntry => ({
      orderId: event.orderId,
      promotionId: event.promotionId,
      userId: event.userId,
      quantity: event.quantity,
      amountCents: BigInt(event.amountCents),
      status: 'RESERVED',
      reservedAtMs: (event.reserveTime ?? new Date()).getTime(),
      idempotencyKey: event.idempotencyKey,
    }));
    for (const orphan of await sales.recordReserved(entries)) {
      logger.error(
        { order_id: orphan.orderId, promotion_id: orphan.promotionId },
        'reservation of an unknown sale skipped by the ledger',
      );
    }
  };
}
