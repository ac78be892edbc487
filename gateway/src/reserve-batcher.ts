import { status } from '@grpc/grpc-js';
import { context, type Context } from '@opentelemetry/api';
import type { inventoryV1 } from '@flash-sale/contracts';
import { ERROR_DOMAIN } from '@flash-sale/grpc-kit';
import { saveTraceContext } from '@flash-sale/observability';
import { problemFromFailure } from './http/grpc-status-map';
import { HttpProblem } from './http/problem';
import type { CallScope, Upstreams } from './upstreams';

interface Pending {
  item: inventoryV1.ReserveBatchItem;
  /** The purchase's trace: its item carries it, and a batch call is made in its first purchase's. */
  context: Context;
  scope: CallScope;
  queuedAt: number;
  resolve: (response: inventoryV1.ReserveResponse) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent purchases into `ReserveBatch` calls, whose items inventory decides one by one exactly as
 * `Reserve` would (their Lua calls pipelined on one Redis connection). A refused item fails its own purchase with
 * the problem `Reserve` would have caused; a failed call fails them all, and is retried as a whole by the upstream
 * layer (every item is idempotent by its key).
 *
 * Smart batching: a purchase leaves at the end of its event-loop turn, with every other purchase of that turn, while
 * fewer than `maxPartialInFlight` calls are out; otherwise it waits for one of them to come back, at most
 * `maxWaitMs`, and leaves with everything that gathered meanwhile. A full batch (`maxBatch`) always leaves at once,
 * so this never caps the rate. Idle, a purchase waits for nothing; busy, batches grow with the load instead of each
 * turn's handful paying for a gRPC call, a Redis pipeline and a relay pass of its own; and a slow call (inventory
 * waiting for Kafka, say) holds the purchases behind it no longer than `maxWaitMs`.
 *
 * Each item carries its purchase's W3C trace context (`traceparent`, `tracestate`), so that inventory reserves it,
 * and saves its outbox entry, in that purchase's trace; the call itself belongs to the first purchase's trace.
 */
export class ReserveBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private held: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxPartialInFlight: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly upstreams: Upstreams,
    options: { maxBatch: number; maxPartialInFlight?: number; maxWaitMs?: number },
  ) {
    this.maxBatch = options.maxBatch;
    this.maxPartialInFlight = options.maxPartialInFlight ?? Infinity;
    this.maxWaitMs = options.maxWaitMs ?? 25;
  }

  reserve(request: inventoryV1.ReserveRequest, scope: CallScope): Promise<inventoryV1.ReserveResponse> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        item: { userId: scope.principal!.userId, request, ...saveTraceContext() },
        context: context.active(),
        scope,
        queuedAt: Date.now(),
        resolve,
        reject,
      });
      if (this.pending.length >= this.maxBatch) this.send();
      else this.schedule();
    });
  }

  /** Sends what is pending at the end of this turn, unless enough calls are out: then it is held (above). */
  private schedule() {
    if (this.scheduled) return;
    if (this.inFlight >= this.maxPartialInFlight) {
      this.held ??= setTimeout(() => {
        this.held = undefined;
        this.send();
      }, this.maxWaitMs);
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight < this.maxPartialInFlight) this.send();
      else this.schedule();
    });
  }

  private send() {
    clearTimeout(this.held);
    this.held = undefined;
    const batch = this.pending.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    if (this.pending.length > 0) this.schedule();
    const { inventory } = this.upstreams.clients;
    // The buyers travel in the items; the call itself carries the first request's id and no caller, and the
    // deadline that is left of the oldest purchase's.
    const { principal: _, ...first } = batch[0]!.scope;
    const scope = {
      ...first,
      timeoutMs: Math.max(1, first.timeoutMs - (Date.now() - batch[0]!.queuedAt)),
      retry: true,
    };
    this.inFlight += 1;
    // In the first purchase's trace, whatever context this turn runs in (a timer, or an earlier call's settling).
    context
      .with(batch[0]!.context, () =>
        this.upstreams.call('inventory', inventory.reserveBatch, { items: batch.map((p) => p.item) }, scope),
      )
      .then(
        ({ results }) =>
          batch.forEach((pending, i) => {
            const outcome = results[i]?.outcome;
            if (outcome?.$case === 'reserved') pending.resolve(outcome.value);
            else pending.reject(refusal(outcome?.$case === 'failure' ? outcome.value : undefined));
          }),
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      )
      .finally(() => {
        this.inFlight -= 1;
        if (this.pending.length > 0) this.schedule();
      });
  }
}

function refusal(failure: inventoryV1.ReserveFailure | undefined): HttpProblem {
  const problem = problemFromFailure(
    failure
      ? {
          code: failure.code as status,
          message: failure.message,
          ...(failure.reason
            ? { info: { reason: failure.reason, domain: ERROR_DOMAIN, metadata: failure.metadata } }
            : {}),
        }
      : { code: status.INTERNAL, message: 'inventory answered the batch without this item' },
  );
  return new HttpProblem(problem);
}
