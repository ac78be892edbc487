import { rejectionError, validateReserve, type ReserveCommand } from '../domain/reservation';
import type { IdGenerator, StockCache, StockSignals } from './ports';

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
    private readonly signals: StockSignals,
    /** Told about every new reservation, so the outbox relay reads that promotion's stream next. */
    private readonly onReserved: (promotionId: string) => void = () => undefined,
  ) {}

  async execute(command: ReserveCommand): Promise<ReservedOrder> {
    validateReserve(command);
    const result = await this.cache.reserve({ ...command, orderId: this.ids.next(), eventId: this.ids.next() });
    if (result.outcome === 'REJECTED') {
      // A buyer who reached us for a sold-out sale means some gateway does not know yet: say it again.
      if (result.rejection === 'SOLD_OUT') this.signals.soldOut(command.promotionId);
      throw rejectionError(result.rejection, command.promotionId);
    }
    if (result.outcome === 'RESERVED') {
      this.onReserved(command.promotionId);
      if (result.stockLeft === 0) this.signals.soldOut(command.promotionId);
    }
    return {
      orderId: result.orderId,
      amountCents: result.amountCents,
      reservedAtMs: result.reservedAtMs,
      replayed: result.outcome === 'REPLAYED',
      stockLeft: result.stockLeft,
    };
  }
}
