import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { isDomainError, type ErrorKind } from '@flash-sale/errors';
import { decodeErrorInfo, encodeStatusDetails, type ErrorInfo } from './status-details';

export const ERROR_DOMAIN = 'flashsale';
const DETAILS_KEY = 'grpc-status-details-bin';

const STATUS_BY_KIND: Record<ErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  conflict: status.ALREADY_EXISTS,
  precondition: status.FAILED_PRECONDITION,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
};

/**
 * The one place where errors become gRPC statuses. Domain errors keep their message and carry their code as a
 * `google.rpc.ErrorInfo` detail; anything else is INTERNAL with a generic message (the caller logs the stack).
 */
export function toStatus(error: unknown): Partial<StatusObject> & { code: status } {
  if (!isDomainError(error)) {
    return { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() };
  }
  const code = STATUS_BY_KIND[error.kind];
  const metadata = new Metadata();
  metadata.set(
    DETAILS_KEY,
    encodeStatusDetails(code, error.message, {
      reason: error.code,
      domain: ERROR_DOMAIN,
      metadata: { ...error.details },
    }),
  );
  return { code, details: error.message, metadata };
}

/**
 * The same mapping for one item of a batch answer, where a failure travels in the response body rather than as
 * the call's status: a domain error keeps its status, reason, metadata and message; anything else is INTERNAL.
 */
export function toItemFailure(error: unknown): {
  code: status;
  reason: string;
  message: string;
  metadata: Record<string, string>;
} {
  if (!isDomainError(error)) return { code: status.INTERNAL, reason: '', message: 'internal error', metadata: {} };
  return {
    code: STATUS_BY_KIND[error.kind],
    reason: error.code,
    message: error.message,
    metadata: { ...error.details },
  };
}

/** What a client learns from a failed call: the status, the message and, when present, the ErrorInfo. */
export interface CallFailure {
  code: status;
  message: string;
  info?: ErrorInfo;
}

export function readFailure(error: Partial<ServiceError>): CallFailure {
  const raw = error.metadata?.get(DETAILS_KEY)[0];
  const info = raw instanceof Buffer ? decodeErrorInfo(raw) : undefined;
  return {
    code: error.code ?? status.UNKNOWN,
    message: error.details ?? error.message ?? '',
    ...(info ? { info } : {}),
  };
}

export const isServiceError = (error: unknown): error is ServiceError =>
  typeof error === 'object' && error !== null && 'code' in error && 'metadata' in error;
