import { assertId, DomainError, invalid, notFound, precondition } from '@flash-sale/errors';

/** Largest quantity one purchase may ask for, whatever the per-user limit: a guard against absurd input. */
export const MAX_QUANTITY_PER_PURCHASE = 100;
/** Idempotency keys are opaque to us, but bounded: 1-128 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'CONFIRMED';

export interface Reservation {
  orderId: string;
  promotionId: string;
  userId: string;
  quantity: number;
  amountCents: bigint;
  status: ReservationStatus;
  reservedAtMs: number;
  /** The buyer's key for the purchase; kept so a rebuilt Redis still answers a retried purchase. */
  idempotencyKey: string;
}

export interface ReserveCommand {
  promotionId: string;
  userId: string;
  quantity: number;
  idempotencyKey: string;
}

/** Why the reserve script said no. Each maps to one domain error below. */
export type Rejection =
  'NOT_PREHEATED' | 'SALE_NOT_STARTED' | 'SALE_ENDED' | 'PURCHASE_LIMIT_REACHED' | 'SOLD_OUT' | 'INSUFFICIENT_STOCK';

/** Checks what can be checked without Redis; throws an `invalid` error naming the field. */
export function validateReserve(command: ReserveCommand): void {
  if (!Number.isInteger(command.quantity) || command.quantity < 1 || command.quantity > MAX_QUANTITY_PER_PURCHASE) {
    throw invalid('INVALID_QUANTITY', `quantity must be an integer from 1 to ${MAX_QUANTITY_PER_PURCHASE}`, {
      field: 'quantity',
    });
  }
  if (!IDEMPOTENCY_KEY.test(command.idempotencyKey)) {
    throw invalid('INVALID_IDEMPOTENCY_KEY', 'idempotency key must be 1-128 visible ASCII characters', {
      field: 'idempotency_key',
    });
  }
  assertId(command.promotionId, 'promotion_id');
}

/** A purchase the reserve script refused, with the script's reason (for the sale's figures). */
export class ReservationRefused extends DomainError {
  constructor(
    readonly rejection: Rejection,
    error: DomainError,
  ) {
    super(error.kind, error.code, error.message, error.details);
  }
}

/**
 * What became of one purchase, as the sale's figures count it: accepted, a replay of an accepted one (`duplicate`),
 * or the script's reason for refusing it, lower-cased. Undefined for a request refused before the script (invalid).
 */
export type ReservationOutcome = 'accepted' | 'duplicate' | Lowercase<Rejection>;

export const acceptedOutcome = (replayed: boolean): ReservationOutcome => (replayed ? 'duplicate' : 'accepted');

export const refusedOutcome = (error: unknown): ReservationOutcome | undefined =>
  error instanceof ReservationRefused ? (error.rejection.toLowerCase() as Lowercase<Rejection>) : undefined;

export function rejectionError(rejection: Rejection, promotionId: string): DomainError {
  return new ReservationRefused(rejection, refusal(rejection, promotionId));
}

function refusal(rejection: Rejection, promotionId: string): DomainError {
  const details = { promotion_id: promotionId };
  switch (rejection) {
    case 'NOT_PREHEATED':
      return notFound('PROMOTION_NOT_FOUND', `promotion ${promotionId} does not exist or is not on sale`, details);
    case 'SALE_NOT_STARTED':
      return precondition('SALE_NOT_ACTIVE', 'the sale has not started yet', { ...details, reason: 'NOT_STARTED' });
    case 'SALE_ENDED':
      return precondition('SALE_NOT_ACTIVE', 'the sale has ended', { ...details, reason: 'ENDED' });
    case 'PURCHASE_LIMIT_REACHED':
      return precondition('PURCHASE_LIMIT_REACHED', 'this purchase would exceed the per-user limit', details);
    case 'SOLD_OUT':
      return precondition('SOLD_OUT', 'the promotion is sold out', details);
    case 'INSUFFICIENT_STOCK':
      return precondition('INSUFFICIENT_STOCK', 'not enough stock left for this quantity', details);
  }
}
