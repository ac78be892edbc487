import { rejectionError, validateReserve, type ReserveCommand } from '../domain/reservation';
import type { IdGenerator, StockCache } from './ports';

export interface ReservedOrder {
  orderId: string;
  amountCents: bigint;
  reservedAtMs: number;
  /** True when the idempotency key had been used before: nothing new was reserved. */
  replayed: boolean;
  stockLeft: number;
}

/** The hot path: one atomic script decides, reserves and writes the OrderRequested outbox entry. */
export class ReserveStock {
  constructor(
    private readonly cache: StockCache,
    private readonly ids: IdGenerator,
  ) {}

  async execute(command: ReserveCommand): Promise<ReservedOrder> {
    validateReserve(command);
    const result = await this.cache.reserve({ ...command, orderId: this.ids.next(), eventId: this.ids.next() });
    if (result.outcome === 'REJECTED') throw rejectionError(result.rejection, command.promotionId);
    return {
      orderId: result.orderId,
      amountCents: result.amountCents,
      reservedAtMs: result.reservedAtMs,
      replayed: result.outcome === 'REPLAYED',
      stockLeft: result.stockLeft,
    };
  }
}
