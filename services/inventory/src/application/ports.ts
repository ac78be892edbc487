import type { LedgerEntry } from '../domain/ledger';
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
  /** `stockLeft` only where the script says (PURCHASE_LIMIT_REACHED, which is checked before the stock). */
  | { outcome: 'REJECTED'; rejection: Rejection; stockLeft?: number };

/** Ledger entries for a rebuild: a list, or pages read as the rebuild goes. */
export type LedgerInput = readonly LedgerEntry[] | AsyncIterable<readonly LedgerEntry[]>;

/** The hot stock counters (Redis). Every method is atomic for its promotion. */
export interface StockCache {
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * Makes Redis agree with the ledger and opens the sale: seeds the stock counter with the total where there is
   * none, merges every ledger entry Redis lacks or holds in an older state, then writes the terms (buyers are
   * refused until then, so a rebuild never sells units the ledger says are held). `ledger` is the entries, or the
   * ledger's pages (`SaleRepository.ledgerPages`), merged as they come. Returns the stock available.
   */
  rebuild(terms: SaleTerms, ledger: LedgerInput): Promise<{ available: number; merged: number }>;
  /** Whether Redis has the sale's terms (false after Redis lost its data). */
  isOpen(promotionId: string): Promise<boolean>;
  /** Merges ledger entries into an open sale; returns how many changed Redis. */
  merge(promotionId: string, entries: readonly LedgerEntry[]): Promise<number>;
  /**
   * The stock counter minus what it should be (total minus the held count Redis keeps), in O(1); sets it right
   * when `repair`. Undefined when the held count is unknown (a sale opened before it was kept, or the key lost):
   * nothing is checked or repaired until `recountHeld` restores it.
   */
  checkStock(promotionId: string, repair: boolean): Promise<number | undefined>;
  /**
   * Recounts the sale's held units from its reservations a page at a time (no call holds Redis for long) and sets
   * the held count, unless anything moved held units or added a reservation between the first page and the last:
   * then it changes nothing (inconclusive).
   */
  recountHeld(promotionId: string): Promise<HeldRecount>;
  available(promotionId: string): Promise<number | undefined>;
  /**
   * Which Redis server this is (its run id: another value means it restarted, failed over or was restored), and
   * its clock, the one reservations are stamped with.
   */
  epoch(): Promise<RedisEpoch>;
  findReservation(orderId: string): Promise<Reservation | undefined>;
  /** What releasing did: units went back now (with the stock after), nothing (already settled), or unknown order. */
  release(promotionId: string, orderId: string): Promise<ReleaseResult>;
  /** Marks the reservation paid, atomically against a racing release: of the two, only the first one wins. */
  confirm(promotionId: string, orderId: string): Promise<ConfirmOutcome>;
}

export type HeldRecount =
  /** `held` set from the reservations; `before`, what it said before (undefined: it was unknown). */
  | { outcome: 'counted'; pages: number; held: number; before: number | undefined }
  | { outcome: 'inconclusive' | 'closed'; pages: number };

export interface RedisEpoch {
  id: string;
  nowMs: number;
}

export type ConfirmOutcome = 'CONFIRMED' | 'ALREADY_CONFIRMED' | 'RELEASED' | 'UNKNOWN';

/** The stock truth (PostgreSQL). */
export interface SaleRepository {
  /** Inserts the sale or updates its terms; never changes `sold`. */
  upsert(terms: SaleTerms): Promise<{ total: number; sold: number }>;
  find(promotionId: string): Promise<(SaleTerms & { sold: number }) | undefined>;
  /** Records reservations once each; returns the ones of sales it does not know (not recorded). */
  recordReserved(entries: readonly LedgerEntry[]): Promise<LedgerEntry[]>;
  /**
   * Moves a ledger entry from RESERVED to RELEASED or CONFIRMED (inserting it so when the ledger has not seen
   * it yet), once; a confirmation also adds its units to the sale's `sold` under an optimistic lock, in the same
   * transaction. Returns false when the entry was already settled.
   */
  settle(entry: LedgerEntry, to: 'RELEASED' | 'CONFIRMED'): Promise<boolean>;
  findEntry(orderId: string): Promise<LedgerEntry | undefined>;
  /**
   * Every ledger entry of a sale, in order id order, a page at a time: a sale of a million reservations is about
   * 270 MB of entries, more than the heap a pod gives inventory, so no caller holds them all at once.
   */
  ledgerPages(promotionId: string): AsyncIterable<LedgerEntry[]>;
  /**
   * Every ledger entry, of any sale, written or settled at `since` or later, except reservations still `RESERVED`
   * that were made at `reservedBefore` or later.
   */
  changedSince(since: Date, reservedBefore: Date): Promise<LedgerEntry[]>;
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

/**
 * How far the reservation ledger has read the order stream. After Redis lost a sale, its reservations that
 * reached Kafka may not be in the ledger yet; rebuilding before they are would sell their units again.
 */
export interface LedgerProgress {
  /** Waits until the ledger has recorded everything published so far; false when `timeoutMs` ran out first. */
  catchUp(timeoutMs: number): Promise<boolean>;
}
