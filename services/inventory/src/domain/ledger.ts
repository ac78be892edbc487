import type { Reservation, ReservationStatus } from './reservation';

/** A reservation as the PostgreSQL ledger records it; Redis can be rebuilt whole from these. */
export type LedgerEntry = Reservation;

/** The one-letter status codes of reservation records in Redis. */
export const STATUS_CODE: Record<ReservationStatus, 'R' | 'X' | 'C'> = { RESERVED: 'R', RELEASED: 'X', CONFIRMED: 'C' };

/** Units a set of entries takes from stock: everything not released. */
export const heldUnits = (entries: readonly Pick<LedgerEntry, 'status' | 'quantity'>[]) =>
  entries.reduce((sum, entry) => sum + (entry.status === 'RELEASED' ? 0 : entry.quantity), 0);
