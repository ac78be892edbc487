import type { Metadata, sendUnaryData, ServerUnaryCall, handleUnaryCall } from '@grpc/grpc-js';
import { isDomainError } from '@flash-sale/errors';
import type { Logger } from '@flash-sale/logging';
import { toStatus } from './errors';

/** What a handler sees of its call: the metadata (identity, trace) and an abort signal. */
export interface CallContext {
  metadata: Metadata;
  signal: AbortSignal;
}

export type UnaryHandler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/**
 * Adapts an async handler to grpc-js: maps thrown errors through {@link toStatus} and logs each call exactly
 * once with its method, status and duration. Handlers therefore need no try/catch and no logging of their own.
 */
export function unary<Req, Res>(
  method: string,
  logger: Logger,
  handler: UnaryHandler<Req, Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = process.hrtime.bigint();
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort());
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    handler(call.request, { metadata: call.metadata, signal: controller.signal }).then(
      (response) => {
        logger.debug({ method, code: 0, ms: ms() }, 'grpc call');
        callback(null, response);
      },
      (error: unknown) => {
        const mapped = toStatus(error);
        if (isDomainError(error)) {
          logger.info({ method, code: mapped.code, reason: error.code, ms: ms() }, 'grpc call rejected');
        } else {
          logger.error({ method, code: mapped.code, err: error, ms: ms() }, 'grpc call failed');
        }
        callback(mapped, null);
      },
    );
  };
}
