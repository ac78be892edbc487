import type { Rejection, Reservation } from '../domain/reservation';
import type { SaleTerms } from '../domain/sale';

export interface ReserveRequest {
  promotionId: string;
  userId: string;
  quantity: number;
  idempotencyKey: string;
  /** A fresh order id, used only if this is a new reservation. */
  orderId: string;
  /** A fresh event id for the OrderRequested event written to the outbox with the reservation. */
  eventId: string;
}

export type ReserveResult =
  | { outcome: 'RESERVED' | 'REPLAYED'; orderId: string; amountCents: bigint; stockLeft: number; reservedAtMs: number }
  | { outcome: 'REJECTED'; rejection: Rejection };

/** The hot stock counters (Redis). Every method is atomic for its promotion. */
export interface StockCache {
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Writes terms and seeds `available` only where the sale has no counter yet; returns what is available now. */
  prepare(terms: SaleTerms, available: number): Promise<number>;
  available(promotionId: string): Promise<number | undefined>;
  findReservation(orderId: string): Promise<Reservation | undefined>;
  /** What releasing did: units went back now (with the stock after), nothing (already settled), or unknown order. */
  release(promotionId: string, orderId: string): Promise<ReleaseResult>;
  /** Marks the reservation paid, atomically against a racing release: of the two, only the first one wins. */
  confirm(promotionId: string, orderId: string): Promise<ConfirmOutcome>;
}

export type ConfirmOutcome = 'CONFIRMED' | 'ALREADY_CONFIRMED' | 'RELEASED' | 'UNKNOWN';

/** The stock truth (PostgreSQL). */
export interface SaleRepository {
  /** Inserts the sale or updates its terms; never changes `sold`. */
  upsert(terms: SaleTerms): Promise<{ total: number; sold: number }>;
  find(promotionId: string): Promise<(SaleTerms & { sold: number }) | undefined>;
  /**
   * Records an order as paid: adds its units to `sold` under an optimistic lock, once per order id.
   * Returns false when the order was already confirmed.
   */
  confirmSold(promotionId: string, orderId: string, quantity: number): Promise<boolean>;
  /** Promotions whose outbox streams may still hold entries: windows that end after `since`. */
  listOpenSince(since: Date): Promise<string[]>;
}

export type ReleaseResult =
  { outcome: 'RELEASED'; stockNow: number; units: number } | { outcome: 'ALREADY_SETTLED' | 'UNKNOWN' };

/** Tells gateways about stock signals so they can answer sold-out buyers from memory. */
export interface StockSignals {
  soldOut(promotionId: string): void;
  available(promotionId: string, availableStock: number): void;
}

export interface IdGenerator {
  next(): string;
}
