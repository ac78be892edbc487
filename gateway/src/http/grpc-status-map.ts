import { status } from '@grpc/grpc-js';
import type { CallFailure } from '@flash-sale/grpc-kit';
import { problem, type Problem } from './problem';

/** gRPC status -> HTTP status, and the code used when the upstream gave no ErrorInfo reason. */
const BY_STATUS: Partial<Record<status, [number, string]>> = {
  [status.INVALID_ARGUMENT]: [400, 'INVALID_ARGUMENT'],
  [status.OUT_OF_RANGE]: [400, 'OUT_OF_RANGE'],
  [status.UNAUTHENTICATED]: [401, 'UNAUTHENTICATED'],
  [status.PERMISSION_DENIED]: [403, 'FORBIDDEN'],
  [status.NOT_FOUND]: [404, 'NOT_FOUND'],
  [status.ALREADY_EXISTS]: [409, 'CONFLICT'],
  [status.FAILED_PRECONDITION]: [409, 'CONFLICT'],
  [status.ABORTED]: [409, 'CONFLICT'],
  [status.RESOURCE_EXHAUSTED]: [429, 'RATE_LIMITED'],
  [status.UNAVAILABLE]: [503, 'UPSTREAM_UNAVAILABLE'],
  [status.DEADLINE_EXCEEDED]: [504, 'UPSTREAM_TIMEOUT'],
  [status.CANCELLED]: [503, 'UPSTREAM_UNAVAILABLE'],
};

/** Codes whose HTTP status differs from their gRPC status's default. */
const BY_CODE: Record<string, number> = {
  PAYMENT_DECLINED: 402,
};

/**
 * The one table from an upstream failure to the problem the client sees. Domain messages pass through (they
 * were written for clients); for anything unexpected the client gets a generic message and the log the rest.
 */
export function problemFromFailure(failure: CallFailure): Problem {
  const mapped = BY_STATUS[failure.code];
  if (!mapped) return problem(502, 'UPSTREAM_ERROR', 'an upstream service failed; try again later');
  const [httpStatus, fallbackCode] = mapped;
  const code = failure.info?.reason || fallbackCode;
  const detail = failure.info ? failure.message : defaultDetail(httpStatus);
  // Services name fields as in proto (snake_case); HTTP clients know them in JSON spelling (camelCase).
  const field = failure.info?.metadata.field?.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return problem(
    BY_CODE[code] ?? httpStatus,
    code,
    detail,
    field ? { errors: [{ field, message: failure.message }] } : {},
  );
}

function defaultDetail(httpStatus: number): string {
  if (httpStatus === 503) return 'an upstream service is unavailable; try again later';
  if (httpStatus === 504) return 'an upstream service did not answer in time; try again later';
  return 'the request was rejected';
}
