import type { Logger } from '@flash-sale/logging';
import type { Claim, IdempotencyStore, StoredResponse } from './idempotency';
import { httpProblem } from './problem';

/** Outcomes that may turn out differently on a later try with the same key: never replayed. */
export const NOT_REPLAYED: ReadonlySet<string> = new Set([
  'SOLD_OUT',
  'INSUFFICIENT_STOCK',
  'SALE_NOT_ACTIVE',
  'PURCHASE_LIMIT_REACHED',
  'RATE_LIMITED',
  'OVERLOADED',
  // Another payment holds the order; if it fails, this key may pay.
  'ORDER_BEING_PAID',
]);

/** One call of an operation that takes an idempotency key, whatever the transport (HTTP routes, the gRPC door). */
export interface IdempotentCall {
  /** The key in the store: the user, the operation and the client's key. */
  key: string;
  /** What makes two requests "the same" (see `fingerprint`). */
  print: string;
  /** A refusal decided from memory (see MemoryRefusal): the key is then only read, never taken. */
  refuse?: () => StoredResponse;
  /** The per-user rate limit, checked while the key is claimed; rejects when over. */
  limit: () => Promise<void>;
  /** The operation itself: its answer, and whether that answer is not final for the key (work goes on). */
  run: () => Promise<{ response: StoredResponse; provisional?: boolean }>;
  /** The answer a failure of `run` leaves for the key (a definite refusal), or undefined to free the key. */
  refusal: (error: unknown) => StoredResponse | undefined;
  /** Sends an answer to the client; `replayed` when it was stored by an earlier call with the key. */
  answer: (response: StoredResponse, replayed: boolean) => void;
}

/**
 * The idempotency rules: the same key and request replay the stored answer, the same key with another request is
 * refused (422 IDEMPOTENCY_KEY_REUSED), a definite refusal is kept for the key, and a failure that may pass frees it.
 */
export async function idempotentCall(store: IdempotencyStore, logger: Logger, call: IdempotentCall): Promise<void> {
  const { key, print } = call;
  // A refusal known now (the sale is sold out) reads the key instead of taking it: one Redis call, no write.
  // It is not counted against the user's rate limit either: counting would cost as much as answering, and the
  // answer is a refusal all the same (the per-address limit still applies).
  const claim = call.refuse
    ? await store.peek(key, print)
    : await claimWithin(
        call.limit(),
        () => store.claim(key, print),
        () =>
          store
            .release(key)
            .catch((failure: unknown) => logger.warn({ err: failure, key }, 'idempotency key not released after 429')),
      );
  if (claim.kind === 'mismatch') {
    throw httpProblem(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
  }
  if (claim.kind === 'replay') return call.answer(claim.response, true);
  if (call.refuse) return call.answer(call.refuse(), false);
  let result: Awaited<ReturnType<IdempotentCall['run']>>;
  try {
    result = await call.run();
  } catch (error) {
    // A definite refusal (402, 404, 409 ...) is the answer to this key; a failure that may pass is not.
    // Answered without waiting for Redis, as a success is: a retry that overtakes the release or the stored
    // refusal finds the key in flight and goes to the upstream, which answers the same or better.
    const refusal = call.refusal(error);
    const settled = refusal ? store.complete(key, print, refusal) : store.release(key);
    settled.catch((failure: unknown) => logger.warn({ err: failure, key }, 'idempotency key not settled'));
    throw error;
  }
  // Answered first: a retry that arrives before the response is stored finds the key in flight and goes to
  // the upstream, which is idempotent by the same key and answers the same.
  call.answer(result.response, false);
  if (result.provisional) await store.release(key);
  else await store.complete(key, print, result.response);
}

/**
 * Claims an idempotency key while the rate limit is checked. A refused request gives up a key it took, so that the
 * same key works once the limit allows (best effort: `release` logs its own failure; an unreleased claim lapses,
 * and a retry that finds it in flight goes ahead anyway).
 */
async function claimWithin(
  limit: Promise<void>,
  claim: () => Promise<Claim>,
  release: () => Promise<void>,
): Promise<Claim> {
  const [limited, claimed] = await Promise.allSettled([limit, claim()]);
  if (limited.status === 'rejected') {
    if (claimed.status === 'fulfilled' && claimed.value.kind === 'new') await release();
    throw limited.reason;
  }
  if (claimed.status === 'rejected') throw claimed.reason;
  return claimed.value;
}
