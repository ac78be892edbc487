import { randomUUID } from 'node:crypto';
import {
  Metadata,
  status,
  type handleUnaryCall,
  type MethodDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import type { paymentV1 } from '@flash-sale/contracts';
import type { Logger } from '@flash-sale/logging';
import { requireIdempotencyKey } from '../api/api-router';
import type { OperationSpec } from '../api/operations';
import { REQUEST_ID } from '../app';
import type { JwtVerifier } from '../auth/jwt';
import { problemOf } from '../http/error-handler';
import { fingerprint, type IdempotencyStore } from '../http/idempotency';
import { idempotentCall, NOT_REPLAYED } from '../http/idempotent-call';
import { orderIsPaid } from '../http/mappers';
import type { RateLimiter } from '../http/rate-limits';
import { authorize } from '../routes/auth-middleware';
import type { CallScope, UpstreamName, Upstreams } from '../upstreams';
import { doorFailure, statusOf, type DoorFailure } from './status';

export interface ForwardDependencies {
  upstreams: Upstreams;
  verify: JwtVerifier;
  limiter: RateLimiter;
  idempotency: IdempotencyStore;
  /** The longest an upstream call may take (the client's own deadline may be shorter). */
  timeoutMs: number;
  logger: Logger;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- one forwarder serves every public method's message types */
type AnyMethod = MethodDefinition<any, any>;
type UpstreamMethod = Parameters<Upstreams['call']>[1];

/**
 * Answers that are not final for their idempotency key, by method: as on the HTTP side (see the Pay handler), a
 * payment whose order is not PAID yet is still charging, so a retry with the key asks again.
 */
const PROVISIONAL: Record<string, (reply: any) => boolean> = {
  'flashsale.payment.v1.PaymentService.Pay': (reply: paymentV1.PayResponse) => !orderIsPaid(reply.orderStatus),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * The door's handler of one public method: the caller is authorized from `authorization: Bearer <JWT>` by the
 * operation's access, limited per address and per user, and, for an operation that takes an idempotency key, held
 * to the same idempotency rules as the HTTP route; then the request goes to the owning service through the
 * gateway's upstream client. Only what the gateway sets travels upstream: the client's metadata (an `x-user-id` of
 * its own, say) never does.
 */
export function forwardMethod(
  deps: ForwardDependencies,
  spec: OperationSpec,
  upstream: UpstreamName,
  /** The method's name in the service definition and in the client (`pay`). */
  name: string,
  method: AnyMethod,
): handleUnaryCall<unknown, unknown> {
  const client = deps.upstreams.clients[upstream] as unknown as Record<string, UpstreamMethod>;
  const clientMethod = client[name]!;
  if (typeof clientMethod !== 'function') throw new Error(`${spec.rpc}: the ${upstream} client has no such method`);
  if (spec.idempotent && !('idempotencyKey' in (method.requestDeserialize(Buffer.alloc(0)) as object))) {
    throw new Error(`${spec.rpc} takes an idempotency key but its request has no idempotency_key field`);
  }
  const provisional = PROVISIONAL[spec.rpc] ?? (() => false);
  const send = (scope: CallScope, request: unknown) =>
    deps.upstreams.call(upstream, clientMethod, request, { ...scope, ...(spec.retry ? { retry: true } : {}) });

  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const incoming = call.metadata.get('x-request-id')[0];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const answered = new Metadata();
    answered.set('x-request-id', requestId);
    const fail = (error: unknown) => {
      const failure = error instanceof ReplayedFailure ? error.failure : doorFailure(error);
      if (failure.code === status.INTERNAL || failure.code === status.UNKNOWN) {
        deps.logger.error({ err: error, requestId, rpc: spec.rpc }, 'grpc door call failed');
      }
      call.sendMetadata(answered);
      callback(statusOf(failure));
    };
    serve(call, requestId, answered).then((reply) => {
      call.sendMetadata(answered);
      callback(null, reply);
    }, fail);
  };

  async function serve(call: ServerUnaryCall<unknown, unknown>, requestId: string, answered: Metadata) {
    await deps.limiter.ip(peerAddress(call.getPeer()));
    const authorization = call.metadata.get('authorization')[0];
    const principal = await authorize(
      deps.verify,
      spec.access,
      typeof authorization === 'string' ? authorization : undefined,
    );
    const scope: CallScope = {
      requestId,
      timeoutMs: timeoutFor(call, deps.timeoutMs),
      ...(principal ? { principal } : {}),
    };
    const request = call.request as { idempotencyKey?: string };
    if (!spec.idempotent) {
      if (principal) await deps.limiter.user(principal.userId);
      return send(scope, request);
    }
    const userId = principal!.userId;
    let idempotencyKey: string;
    try {
      idempotencyKey = requireIdempotencyKey(request.idempotencyKey || undefined);
    } catch (error) {
      // Over the limit, the answer is RESOURCE_EXHAUSTED, as on the HTTP side.
      await deps.limiter.user(userId);
      throw error;
    }
    let reply: unknown;
    let replayed: { status: number; body: unknown; problem?: boolean } | undefined;
    await idempotentCall(deps.idempotency, deps.logger, {
      // Apart from the HTTP route's keys: the same key there stores a JSON answer, here a message.
      key: `${userId}:${spec.operationId}:grpc:${idempotencyKey}`,
      print: fingerprint('grpc', spec.rpc, request),
      limit: () => deps.limiter.user(userId),
      run: async () => {
        reply = await send(scope, request);
        const body = method.responseSerialize(reply).toString('base64');
        return { response: { status: status.OK, body }, ...(provisional(reply) ? { provisional: true } : {}) };
      },
      refusal: (error) => {
        const refusal = problemOf(error);
        if (refusal.status >= 500 || NOT_REPLAYED.has(refusal.code)) return undefined;
        return { status: doorFailure(error).code, body: doorFailure(error), problem: true };
      },
      answer: (response, wasReplayed) => {
        if (wasReplayed) replayed = response;
      },
    });
    if (!replayed) return reply;
    answered.set('idempotent-replayed', 'true');
    if (replayed.problem) throw new ReplayedFailure(replayed.body as DoorFailure);
    return method.responseDeserialize(Buffer.from(replayed.body as string, 'base64'));
  }
}

/** A stored refusal answered again for its key. */
class ReplayedFailure extends Error {
  constructor(readonly failure: DoorFailure) {
    super(failure.message);
  }
}

/** grpc-js names the peer `host:port` (`[v6]:port`); the host alone is what the per-address limit counts. */
export function peerAddress(peer: string): string {
  const host = peer.replace(/^ipv[46]:/, '').replace(/:\d+$/, '');
  return host.replace(/^\[(.*)\]$/, '$1') || 'unknown';
}

/** The upstream's deadline: the gateway's limit, or sooner when the client's own deadline is nearer. */
function timeoutFor(call: ServerUnaryCall<unknown, unknown>, limitMs: number): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, Math.min(limitMs, at - Date.now())) : limitMs;
}
