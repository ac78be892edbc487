import { assertId, invalid } from '@flash-sale/errors';

/** What inventory needs to know of a promotion to sell it. */
export interface SaleTerms {
  promotionId: string;
  priceCents: bigint;
  totalStock: number;
  perUserLimit: number;
  startsAt: Date;
  endsAt: Date;
  paymentTimeoutSeconds: number;
}

/** Sale keys stay in Redis this long after the window closes, for late payments, releases and the relay. */
export const MAX_PRICE_CENTS = 10_000_000_000n;

export const SALE_RETENTION_MS = 7 * 24 * 3600 * 1000;

export function validateTerms(terms: SaleTerms): void {
  const bad = (field: string, message: string) => invalid('INVALID_SALE_TERMS', `${field} ${message}`, { field });
  assertId(terms.promotionId, 'promotion_id');
  if (Number.isNaN(terms.startsAt.getTime())) throw bad('starts_at', 'must be a time');
  if (Number.isNaN(terms.endsAt.getTime())) throw bad('ends_at', 'must be a time');
  // The bound keeps amounts (price x quantity) exact in Redis Lua numbers, which are doubles.
  if (terms.priceCents < 0n || terms.priceCents > MAX_PRICE_CENTS)
    throw bad('price_cents', `must be 0 to ${MAX_PRICE_CENTS}`);
  if (!Number.isInteger(terms.totalStock) || terms.totalStock < 0) throw bad('stock', 'must be a whole number >= 0');
  if (!Number.isInteger(terms.perUserLimit) || terms.perUserLimit < 1) throw bad('per_user_limit', 'must be >= 1');
  if (!(terms.endsAt.getTime() > terms.startsAt.getTime())) throw bad('ends_at', 'must be after starts_at');
  if (!Number.isInteger(terms.paymentTimeoutSeconds) || terms.paymentTimeoutSeconds < 1) {
    throw bad('payment_timeout_seconds', 'must be >= 1');
  }
}

/** Units Redis may sell: the truth's total minus what is already paid. */
export const availableFromTruth = (total: number, sold: number) => Math.max(0, total - sold);
