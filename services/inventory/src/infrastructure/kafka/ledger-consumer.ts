import type { KafkaMessage } from 'kafkajs';
import { inventoryEventsV1 } from '@flash-sale/contracts';
import type { Logger } from '@flash-sale/logging';
import type { LedgerEntry } from '../../domain/ledger';
import type { SaleRepository } from '../../application/ports';

/**
 * Records every accepted reservation in the PostgreSQL ledger, from inventory's own `order.requested` events
 * (the Redis outbox, relayed). A batch is one insert; redeliveries insert nothing.
 */
export function ledgerHandler(sales: SaleRepository, logger: Logger) {
  return async (messages: KafkaMessage[]): Promise<void> => {
    const entries: LedgerEntry[] = [];
    for (const message of messages) {
      try {
        if (!message.value) continue;
        const event = inventoryEventsV1.OrderRequested.decode(message.value);
        entries.push({
          orderId: event.orderId,
          promotionId: event.promotionId,
          userId: event.userId,
          quantity: event.quantity,
          amountCents: BigInt(event.amountCents),
          status: 'RESERVED',
          reservedAtMs: (event.reserveTime ?? new Date()).getTime(),
          idempotencyKey: event.idempotencyKey,
        });
      } catch (error) {
        logger.error({ err: error, offset: message.offset }, 'undecodable order request skipped by the ledger');
      }
    }
    for (const orphan of await sales.recordReserved(entries)) {
      logger.error(
        { order_id: orphan.orderId, promotion_id: orphan.promotionId },
        'reservation of an unknown sale skipped by the ledger',
      );
    }
  };
}
