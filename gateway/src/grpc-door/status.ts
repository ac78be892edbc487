import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { encodeStatusDetails, ERROR_DOMAIN, isServiceError, readFailure } from '@flash-sale/grpc-kit';
import { problemOf } from '../http/error-handler';
import { problemFromFailure } from '../http/grpc-status-map';
import { HttpProblem } from '../http/problem';

/** A refusal as the door answers it: a gRPC status with an ErrorInfo (domain `flashsale`, reason = our code). */
export interface DoorFailure {
  code: status;
  message: string;
  reason: string;
  metadata: Record<string, string>;
}

/** The gateway's own refusals (problems) by HTTP status, as gRPC statuses. */
const BY_HTTP_STATUS: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  402: status.FAILED_PRECONDITION,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.FAILED_PRECONDITION,
  413: status.RESOURCE_EXHAUSTED,
  422: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
};

/**
 * Any failure of a door call, in the words the HTTP side uses (the same codes and messages, see problemOf): an
 * upstream's refusal keeps its gRPC status and metadata, the gateway's own gets the status its HTTP status means,
 * and anything unexpected is INTERNAL with a generic message.
 */
export function doorFailure(error: unknown): DoorFailure {
  const problem = problemOf(error);
  const reason = problem.code;
  if (isServiceError(error)) {
    const failure = readFailure(error);
    // Statuses the HTTP side does not pass on (INTERNAL, UNKNOWN ...) are the upstream's fault: 502 there.
    const code = problemFromFailure(failure).status === 502 ? status.INTERNAL : failure.code;
    return { code, message: problem.detail, reason, metadata: { ...failure.info?.metadata } };
  }
  const metadata: Record<string, string> = {};
  const field = problem.errors?.[0]?.field;
  if (field) metadata.field = field;
  if (error instanceof HttpProblem && error.retryAfterSeconds !== undefined) {
    metadata.retry_after_seconds = String(error.retryAfterSeconds);
  }
  return { code: BY_HTTP_STATUS[problem.status] ?? status.INTERNAL, message: problem.detail, reason, metadata };
}

/** The status object grpc-js sends for a failure, with the standard `grpc-status-details-bin` trailer. */
export function statusOf(failure: DoorFailure): Partial<StatusObject> & { code: status } {
  const metadata = new Metadata();
  metadata.set(
    'grpc-status-details-bin',
    encodeStatusDetails(failure.code, failure.message, {
      reason: failure.reason,
      domain: ERROR_DOMAIN,
      metadata: failure.metadata,
    }),
  );
  return { code: failure.code, details: failure.message, metadata };
}
