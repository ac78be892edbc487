import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from '@flash-sale/logging';
import type { JwtVerifier } from './auth/jwt';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { createMetrics } from './http/metrics';
import { httpProblem } from './http/problem';
import { authMiddleware } from './routes/auth-middleware';
import { stateOf, type RequestState } from './routes/context';
import { apiRouter } from './api/api-router';
import { docsRouter } from './api/docs';
import { operationHandlers } from './api/handlers';
import { openApiDocument } from './api/openapi';
import type { Route } from './api/route-table';
import type { IdempotencyStore } from './http/idempotency';
import type { SoldOutSet } from './sold-out-set';
import type { Upstreams } from './upstreams';

export interface GatewayDependencies {
  logger: Logger;
  verify: JwtVerifier;
  upstreams: Upstreams;
  soldOut: SoldOutSet;
  /** Each dependency the gateway needs to serve, and whether it answers now. */
  readiness: () => Promise<Record<string, boolean>>;
  upstreamTimeoutMs: number;
  bodyLimit: string;
  /** The routes, joined to their proto annotations (see api/route-table.ts). */
  routes: readonly Route[];
  idempotency: IdempotencyStore;
  version: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives each request an id (the caller's `X-Request-Id` when sane) and echoes it in the response. */
const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const state: RequestState = { requestId: incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID() };
  (req as typeof req & { state: RequestState }).state = state;
  res.set('X-Request-Id', state.requestId);
  next();
};

/** POSTs with a body must say it is JSON. */
const jsonOnly: RequestHandler = (req, _res, next) => {
  if (
    req.method === 'POST' &&
    req.headers['content-length'] !== '0' &&
    req.headers['content-type'] &&
    !req.is('application/json')
  ) {
    throw httpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json');
  }
  next();
};

export function createApp(deps: GatewayDependencies) {
  const app = express();
  const metrics = createMetrics();
  const auth = authMiddleware(deps.verify);
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestId, helmet(), metrics.observe, jsonOnly);
  app.use(express.json({ limit: deps.bodyLimit, strict: true, type: 'application/json' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', metrics.expose);

  const openApi = openApiDocument(deps.routes, deps.version);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(docsRouter());

  const handlers = operationHandlers({
    upstreams: deps.upstreams,
    soldOut: deps.soldOut,
    soldOutRejected: () => metrics.soldOutRejections.inc(),
  });
  app.use(
    apiRouter({
      routes: deps.routes,
      handlers,
      auth,
      idempotency: deps.idempotency,
      timeoutMs: deps.upstreamTimeoutMs,
    }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

export { stateOf };
