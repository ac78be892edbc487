/**
 * Transport-neutral error kinds. Domain code throws these; the gRPC kit maps a kind to a status and the
 * gateway maps the status (plus the stable `code`) to HTTP. Nothing here knows about either transport.
 */
export type ErrorKind =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'precondition'
  | 'unauthenticated'
  | 'permission_denied'
  | 'exhausted'
  | 'unavailable';

/** An expected failure with a stable, machine-readable `code` such as `SOLD_OUT`. */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (code: string, message: string, details?: Record<string, string>) =>
  new DomainError('invalid', code, message, details);
export const notFound = (code: string, message: string, details?: Record<string, string>) =>
  new DomainError('not_found', code, message, details);
export const conflict = (code: string, message: string, details?: Record<string, string>) =>
  new DomainError('conflict', code, message, details);
export const precondition = (code: string, message: string, details?: Record<string, string>) =>
  new DomainError('precondition', code, message, details);
export const unavailable = (code: string, message: string, details?: Record<string, string>) =>
  new DomainError('unavailable', code, message, details);
export const permissionDenied = (code: string, message: string, details?: Record<string, string>) =>
  new DomainError('permission_denied', code, message, details);
export const unauthenticated = (code: string, message: string) => new DomainError('unauthenticated', code, message);

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

const DECIMAL_ID = /^[1-9][0-9]{0,18}$/;

/** Ids are Snowflake ids as decimal strings; anything else is rejected before it reaches a query. */
export function assertId(value: string, field: string): string {
  if (!DECIMAL_ID.test(value) || BigInt(value) >= 2n ** 63n) {
    throw invalid('INVALID_ID', `${field} must be a positive decimal id`, { field });
  }
  return value;
}
