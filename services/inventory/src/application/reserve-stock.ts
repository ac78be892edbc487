import { rejectionError, validateReserve, type ReserveCommand } from '../domain/reservation';
import type { IdGenerator, StockCache, StockSignals } from './ports';

export interface ReservedOrder {
  orderId: string;
  amountCents: bigint;
  reservedAtMs: number;
  /** True when the idempotency key had been used before: nothing new was reserved. */
  replayed: boolean;
  /** False when the reservation is only in Redis so far (Kafka did not acknowledge it in time). */
  durable: boolean;
  stockLeft: number;
}

export interface DurableWatch {
  done: Promise<boolean>;
  cancel(): void;
}

/** The hot path: one atomic script decides, reserves and writes the OrderRequested outbox entry. */
export class ReserveStock {
  constructor(
    private readonly cache: StockCache,
    private readonly ids: IdGenerator,
    private readonly signals: StockSignals,
    /** Told about every new reservation, so the outbox relay reads that promotion's stream next. */
    private readonly onReserved: (promotionId: string) => void = () => undefined,
    /**
     * Watches for a reservation to become durable outside Redis (its OrderRequested acknowledged by Kafka): `done`
     * is false when that took too long (it stays in the Redis outbox and is sent later). Without it, the buyer is
     * answered at once.
     */
    private readonly durable: (orderId: string) => DurableWatch = () => ({ done: Promise.resolve(true), cancel() {} }),
  ) {}

  async execute(command: ReserveCommand): Promise<ReservedOrder> {
    validateReserve(command);
    const orderId = this.ids.next();
    // Watched before the script runs: the relay may publish the entry before this call hears the script's answer.
    const watch = this.durable(orderId);
    const result = await this.cache.reserve({ ...command, orderId, eventId: this.ids.next() });
    if (result.outcome !== 'RESERVED') watch.cancel();
    if (result.outcome === 'REJECTED') {
      // A buyer who reached us for a sold-out sale means some gateway does not know yet: say it again. That
      // includes a buyer at the purchase limit (checked before the stock): after a sell-out, those who bought keep
      // pressing buy, and a gateway whose sold-out entry lapsed would otherwise send every one of them here.
      if (result.rejection === 'SOLD_OUT' || result.stockLeft === 0) this.signals.soldOut(command.promotionId);
      throw rejectionError(result.rejection, command.promotionId);
    }
    let durable = true;
    if (result.outcome === 'RESERVED') {
      this.onReserved(command.promotionId);
      if (result.stockLeft === 0) this.signals.soldOut(command.promotionId);
      durable = await watch.done;
    }
    return {
      durable,
      orderId: result.orderId,
      amountCents: result.amountCents,
      reservedAtMs: result.reservedAtMs,
      replayed: result.outcome === 'REPLAYED',
      stockLeft: result.stockLeft,
    };
  }
}
