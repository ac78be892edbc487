import { status } from '@grpc/grpc-js';
import type { inventoryV1 } from '@flash-sale/contracts';
import { ERROR_DOMAIN } from '@flash-sale/grpc-kit';
import { problemFromFailure } from './http/grpc-status-map';
import { HttpProblem } from './http/problem';
import type { CallScope, Upstreams } from './upstreams';

interface Pending {
  item: inventoryV1.ReserveBatchItem;
  scope: CallScope;
  resolve: (response: inventoryV1.ReserveResponse) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent purchases into `ReserveBatch` calls: every purchase that arrives within one turn of the
 * event loop (up to `maxBatch`) travels to inventory in one gRPC call, whose items inventory decides one by one
 * exactly as `Reserve` would (their Lua calls pipelined on one Redis connection). A refused item fails its own
 * purchase with the problem `Reserve` would have caused; a failed call fails them all, and is retried as a whole
 * by the upstream layer (every item is idempotent by its key).
 */
export class ReserveBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly upstreams: Upstreams,
    private readonly maxBatch: number,
  ) {}

  reserve(request: inventoryV1.ReserveRequest, scope: CallScope): Promise<inventoryV1.ReserveResponse> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item: { userId: scope.principal!.userId, request }, scope, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush() {
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) this.schedule();
    if (batch.length === 0) return;
    const { inventory } = this.upstreams.clients;
    // The buyers travel in the items; the call itself carries the first request's id and no caller.
    const { principal: _, ...scope } = batch[0]!.scope;
    this.upstreams
      .call('inventory', inventory.reserveBatch, { items: batch.map((p) => p.item) }, { ...scope, retry: true })
      .then(
        ({ results }) =>
          batch.forEach((pending, i) => {
            const outcome = results[i]?.outcome;
            if (outcome?.$case === 'reserved') pending.resolve(outcome.value);
            else pending.reject(refusal(outcome?.$case === 'failure' ? outcome.value : undefined));
          }),
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      );
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
