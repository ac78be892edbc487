import { Router, type Request, type Response } from 'express';
import { z } from '@flash-sale/config';
import type { Logger } from '@flash-sale/logging';
import { fingerprint, type Claim, type IdempotencyStore, type StoredResponse } from '../http/idempotency';
import { problemOf } from '../http/error-handler';
import { httpProblem } from '../http/problem';
import { parse } from '../http/validation';
import type { RateLimits } from '../http/rate-limits';
import type { AuthMiddleware } from '../routes/auth-middleware';
import { scopeOf, stateOf } from '../routes/context';
import type { Handler, MemoryRefusal, OperationInput, OperationResult } from './handlers';
import { idempotencyKey as keySchema } from './schemas';
import { expressPath, type Route } from './route-table';

export interface ApiRouterDependencies {
  routes: readonly Route[];
  handlers: Record<string, Handler>;
  /** Refusals decided from memory before a key is claimed, by fully qualified method (see MemoryRefusal). */
  refusals?: Record<string, MemoryRefusal>;
  auth: AuthMiddleware;
  rateLimits: RateLimits;
  idempotency: IdempotencyStore;
  timeoutMs: number;
  logger: Logger;
}

const none = z.object({}).strict();
const ACCESS = { public: 'optional', user: 'user', admin: 'admin' } as const;
/** Outcomes that may turn out differently on a later try with the same key: never replayed. */
const NOT_REPLAYED = new Set([
  'SOLD_OUT',
  'INSUFFICIENT_STOCK',
  'SALE_NOT_ACTIVE',
  'PURCHASE_LIMIT_REACHED',
  'RATE_LIMITED',
  'OVERLOADED',
  // Another payment holds the order; if it fails, this key may pay.
  'ORDER_BEING_PAID',
]);

/** One Express route per operation, at the method and path its gRPC method's annotation declares. */
export function apiRouter({
  routes,
  handlers,
  refusals = {},
  auth,
  rateLimits,
  idempotency,
  timeoutMs,
  logger,
}: ApiRouterDependencies): Router {
  const router = Router();
  for (const { spec, method, template } of routes) {
    const handle = handlers[spec.rpc];
    if (!handle) throw new Error(`no handler for ${spec.rpc}`);
    const path = expressPath(template);
    // An idempotent operation checks the user's rate limit itself, in the same Redis round trip as the key's claim.
    const guards = [rateLimits.ip, auth[ACCESS[spec.access]], ...(spec.idempotent ? [] : [rateLimits.user])];
    router[method.toLowerCase() as 'get' | 'post'](path, ...guards, async (req, res) => {
      let input: OperationInput;
      try {
        input = {
          params: parse(spec.params ?? none, req.params, 'path'),
          query: parse(spec.query ?? none, req.query, 'query'),
          body: parse(spec.body ?? none, req.body, 'body'),
          idempotencyKey: spec.idempotent ? requireIdempotencyKey(req.get('idempotency-key')) : '',
          scope: { ...scopeOf(req, timeoutMs), ...(spec.retry ? { retry: true } : {}) },
        };
      } catch (error) {
        // Over the limit, the answer is 429, as when the limit is checked first.
        if (spec.idempotent) await rateLimits.checkUser(req);
        throw error;
      }
      if (!spec.idempotent) return send(req, res, await handle(input));
      const key = `${input.scope.principal!.userId}:${spec.operationId}:${input.idempotencyKey}`;
      const print = fingerprint(method, req.path, input.body);
      // A refusal known now (the sale is sold out) reads the key instead of taking it: one Redis call, no write.
      // It is not counted against the user's rate limit either: counting would cost as much as answering, and the
      // answer is a refusal all the same (the per-address limit still applies).
      const refuse = refusals[spec.rpc]?.(input);
      const claim = refuse
        ? await idempotency.peek(key, print)
        : await claimWithin(
            rateLimits.checkUser(req),
            () => idempotency.claim(key, print),
            () =>
              idempotency
                .release(key)
                .catch((failure: unknown) =>
                  logger.warn({ err: failure, key }, 'idempotency key not released after 429'),
                ),
          );
      if (claim.kind === 'mismatch') {
        throw httpProblem(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
      }
      if (claim.kind === 'replay') {
        res.set('Idempotent-Replayed', 'true');
        return send(req, res, claim.response);
      }
      if (refuse) {
        const refusal = refuse();
        return send(req, res, { status: refusal.status, body: refusal, problem: true });
      }
      let response: OperationResult;
      try {
        response = await handle(input);
      } catch (error) {
        // A definite refusal (402, 404, 409 ...) is the answer to this key; a failure that may pass is not.
        // Answered without waiting for Redis, as a success is: a retry that overtakes the release or the stored
        // refusal finds the key in flight and goes to the upstream, which answers the same or better.
        const refusal = problemOf(error);
        const settled =
          refusal.status >= 500 || NOT_REPLAYED.has(refusal.code)
            ? idempotency.release(key)
            : idempotency.complete(key, print, { status: refusal.status, body: refusal, problem: true });
        settled.catch((failure: unknown) => logger.warn({ err: failure, key }, 'idempotency key not settled'));
        throw error;
      }
      // Answered first: a retry that arrives before the response is stored finds the key in flight and goes to
      // the upstream, which is idempotent by the same key and answers the same.
      send(req, res, response);
      if (response.provisional) await idempotency.release(key);
      else await idempotency.complete(key, print, response);
    });
  }
  return router;
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

function send(req: Request, res: Response, { status, body, location, problem }: StoredResponse): void {
  if (location) res.location(location);
  if (!problem) return void res.status(status).json(body);
  res.status(status).type('application/problem+json');
  res.json({ ...(body as object), instance: req.path, requestId: stateOf(req).requestId });
}

function requireIdempotencyKey(header: Request['headers'][string]): string {
  if (header === undefined) {
    throw httpProblem(400, 'IDEMPOTENCY_KEY_REQUIRED', 'the Idempotency-Key header is required', {
      errors: [{ field: 'Idempotency-Key', message: 'required' }],
    });
  }
  return parse(keySchema, header, 'header');
}
