import { invalid } from '@flash-sale/errors';

export type PromotionStatus = 'SCHEDULED' | 'ACTIVE' | 'SOLD_OUT' | 'ENDED';

export interface Promotion {
  id: string;
  itemId: string;
  title: string;
  priceCents: bigint;
  stock: number;
  perUserLimit: number;
  startsAt: Date;
  endsAt: Date;
  paymentTimeoutSeconds: number;
  createdAt: Date;
}

export type NewPromotion = Omit<Promotion, 'id' | 'createdAt'>;

export const LIMITS = {
  maxPriceCents: 10_000_000_000n,
  maxStock: 10_000_000,
  maxPerUserLimit: 100,
  maxPaymentTimeoutSeconds: 24 * 3600,
  maxWindowMs: 90 * 24 * 3600 * 1000,
} as const;

const ITEM_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/**
 * C0 and C1 control characters (PostgreSQL refuses NUL in text; none of them belongs in a title) and, in `u` mode,
 * lone surrogates (not text: UTF-8 cannot encode them, so they would be stored as U+FFFD).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_TEXT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/u;

/** Checks a new promotion's fields; the first bad one throws an `invalid` error naming it. */
export function validateNewPromotion(input: NewPromotion, now: Date): NewPromotion {
  const bad = (field: string, message: string) => invalid('INVALID_PROMOTION', `${field} ${message}`, { field });
  if (!ITEM_ID.test(input.itemId)) throw bad('item_id', 'must be 1-64 letters, digits or . _ : -');
  const title = input.title.trim();
  if (title.length < 1 || title.length > 200) throw bad('title', 'must be 1-200 characters');
  if (NOT_TEXT.test(title)) {
    throw bad('title', 'must be well-formed text without control characters');
  }
  if (input.priceCents < 0n || input.priceCents > LIMITS.maxPriceCents) {
    throw bad('price_cents', `must be 0 to ${LIMITS.maxPriceCents}`);
  }
  if (!Number.isInteger(input.stock) || input.stock < 1 || input.stock > LIMITS.maxStock) {
    throw bad('stock', `must be a whole number from 1 to ${LIMITS.maxStock}`);
  }
  if (!Number.isInteger(input.perUserLimit) || input.perUserLimit < 1 || input.perUserLimit > LIMITS.maxPerUserLimit) {
    throw bad('per_user_limit', `must be a whole number from 1 to ${LIMITS.maxPerUserLimit}`);
  }
  if (Number.isNaN(input.startsAt.getTime())) throw bad('starts_at', 'must be a time');
  if (Number.isNaN(input.endsAt.getTime())) throw bad('ends_at', 'must be a time');
  if (input.endsAt <= input.startsAt) throw bad('ends_at', 'must be after starts_at');
  if (input.endsAt <= now) throw bad('ends_at', 'must be in the future');
  if (input.endsAt.getTime() - input.startsAt.getTime() > LIMITS.maxWindowMs) {
    throw bad('ends_at', 'must be at most 90 days after starts_at');
  }
  if (
    !Number.isInteger(input.paymentTimeoutSeconds) ||
    input.paymentTimeoutSeconds < 1 ||
    input.paymentTimeoutSeconds > LIMITS.maxPaymentTimeoutSeconds
  ) {
    throw bad('payment_timeout_seconds', `must be a whole number from 1 to ${LIMITS.maxPaymentTimeoutSeconds}`);
  }
  return { ...input, title };
}

/** A promotion's status at `now`, given the units still available (undefined: unknown, treated as in stock). */
export function statusAt(
  promotion: Pick<Promotion, 'startsAt' | 'endsAt'>,
  now: Date,
  available?: number,
): PromotionStatus {
  if (now < promotion.startsAt) return 'SCHEDULED';
  if (now >= promotion.endsAt) return 'ENDED';
  return available === 0 ? 'SOLD_OUT' : 'ACTIVE';
}

/**
 * The start times a preheat pass looks after: sales that open within `leadMs` and have not opened yet. Redis is
 * (re)built for them ahead of the crowd, so a Redis that lost its data or missed the creation-time preheat
 * never meets the opening second unprepared.
 */
export function preheatWindow(now: Date, leadMs: number): { after: Date; until: Date } {
  return { after: now, until: new Date(now.getTime() + leadMs) };
}
