import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from '@flash-sale/config';
import type { Logger } from '@flash-sale/logging';
import { fingerprint, type IdempotencyStore, type StoredResponse } from '../http/idempotency';
import { idempotentCall, NOT_REPLAYED } from '../http/idempotent-call';
import { problemOf, sendProblem } from '../http/error-handler';
import { httpProblem, type Problem } from '../http/problem';
import { parse } from '../http/validation';
import type { RateLimits } from '../http/rate-limits';
import type { AuthMiddleware } from '../routes/auth-middleware';
import { scopeOf, stateOf } from '../routes/context';
import type { Handler, MemoryRefusal, OperationInput } from './handlers';
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
  /** Middleware that goes first on an operation's route, by fully qualified method (the console's purchase watch). */
  observers?: Record<string, RequestHandler>;
}

const none = z.object({}).strict();
const ACCESS = { public: 'optional', user: 'user', admin: 'admin' } as const;

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
  observers = {},
}: ApiRouterDependencies): Router {
  const router = Router();
  for (const { spec, method, template } of routes) {
    const handle = handlers[spec.rpc];
    if (!handle) throw new Error(`no handler for ${spec.rpc}`);
    const path = expressPath(template);
    // An idempotent operation checks the user's rate limit itself, in the same Redis round trip as the key's claim.
    const guards = [
      ...(observers[spec.rpc] ? [observers[spec.rpc]!] : []),
      rateLimits.ip,
      auth[ACCESS[spec.access]],
      ...(spec.idempotent ? [] : [rateLimits.user]),
    ];
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
      const refuse = refusals[spec.rpc]?.(input);
      await idempotentCall(idempotency, logger, {
        key: `${input.scope.principal!.userId}:${spec.operationId}:${input.idempotencyKey}`,
        print: fingerprint(method, req.path, input.body),
        ...(refuse
          ? {
              refuse: () => {
                const refusal = refuse();
                return { status: refusal.status, body: refusal, problem: true };
              },
            }
          : {}),
        limit: () => rateLimits.checkUser(req),
        run: async () => {
          const response = await handle(input);
          return { response, ...(response.provisional ? { provisional: true } : {}) };
        },
        refusal: (error) => {
          const refusal = problemOf(error);
          if (refusal.status >= 500 || NOT_REPLAYED.has(refusal.code)) return undefined;
          return { status: refusal.status, body: refusal, problem: true };
        },
        answer: (response, replayed) => {
          if (replayed) res.set('Idempotent-Replayed', 'true');
          send(req, res, response);
        },
      });
    });
  }
  return router;
}

function send(req: Request, res: Response, { status, body, location, problem }: StoredResponse): void {
  if (location) res.location(location);
  if (!problem) return void res.status(status).json(body);
  sendProblem(res, { ...(body as Problem), status, instance: req.path, requestId: stateOf(req).requestId });
}

/** The idempotency key a call must carry (the `Idempotency-Key` header on HTTP), checked as the API says. */
export function requireIdempotencyKey(header: Request['headers'][string]): string {
  if (header === undefined) {
    throw httpProblem(400, 'IDEMPOTENCY_KEY_REQUIRED', 'the Idempotency-Key header is required', {
      errors: [{ field: 'Idempotency-Key', message: 'required' }],
    });
  }
  return parse(keySchema, header, 'header');
}
