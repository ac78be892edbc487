import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from '@flash-sale/logging';
import { apiRouter } from './api/api-router';
import { docsRouter } from './api/docs';
import type { ConsoleFeed } from './console/console-feed';
import { consoleRouter } from './console/console-router';
import type { Handler, MemoryRefusal } from './api/handlers';
import { servedOpenApi } from './api/openapi';
import type { Route } from './api/route-table';
import type { JwtVerifier } from './auth/jwt';
import { errorHandler, notFoundHandler } from './http/error-handler';
import type { IdempotencyStore } from './http/idempotency';
import { loadShedding } from './http/load-shedding';
import type { GatewayMetrics } from './http/metrics';
import { httpProblem } from './http/problem';
import type { RateLimits } from './http/rate-limits';
import { trustProxy } from './http/trusted-proxies';
import { authMiddleware } from './routes/auth-middleware';
import { stateOf, type RequestState } from './routes/context';

export interface GatewayDependencies {
  logger: Logger;
  verify: JwtVerifier;
  /** The translation of each operation to its gRPC call, by fully qualified method (see api/handlers.ts). */
  handlers: Record<string, Handler>;
  /** Refusals decided from memory before an idempotency key is claimed (the sold-out fast path). */
  refusals?: Record<string, MemoryRefusal>;
  /** Each dependency the gateway needs to serve, and whether it answers now. */
  readiness: () => Promise<Record<string, boolean>>;
  upstreamTimeoutMs: number;
  bodyLimit: string;
  /** The routes, joined to their proto annotations (see api/route-table.ts). */
  routes: readonly Route[];
  idempotency: IdempotencyStore;
  rateLimits: RateLimits;
  metrics: GatewayMetrics;
  /** Requests served at once before new ones are shed with 503 (0: no bound). */
  maxInFlight: number;
  /** Proxies whose X-Forwarded-For names the client (addresses or CIDR ranges); none by default. */
  trustedProxies?: readonly string[];
  /** Origins allowed to call from a browser; empty: no CORS headers at all. */
  corsOrigins: readonly string[];
  version: string;
  /** True once the process is stopping: every response then closes its connection (see `closeWhileDraining`). */
  draining?: () => boolean;
  /** The live sale console (`/console`): its feed, and what watches the purchase route for it. */
  console?: { feed: ConsoleFeed; observers: Record<string, RequestHandler> };
}

/** A request id a client may choose (`X-Request-Id`); anything else is replaced by one of ours. */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives each request an id (the caller's `X-Request-Id` when sane) and echoes it, with the trace, in the response. */
const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const state: RequestState = { requestId: incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID() };
  (req as typeof req & { state: RequestState }).state = state;
  res.set('X-Request-Id', state.requestId);
  // The trace this request belongs to (W3C trace context), when OpenTelemetry is running.
  const span = trace.getActiveSpan()?.spanContext();
  if (span && trace.isSpanContextValid(span)) {
    res.set('traceparent', `00-${span.traceId}-${span.spanId}-0${span.traceFlags.toString(16)}`);
  }
  next();
};

/**
 * A stopping gateway answers each request still arriving on a kept-alive connection and then closes that
 * connection (`Connection: close`), so the client opens its next one to a replica that stays. Without this a busy
 * connection never turns idle, and the shutdown's deadline would cut it in the middle of a request.
 */
const closeWhileDraining =
  (draining: () => boolean): RequestHandler =>
  (_req, res, next) => {
    if (draining()) res.set('Connection', 'close');
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
  const { metrics } = deps;
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy(deps.trustedProxies ?? []));
  // helmet's policy without upgrade-insecure-requests: a page opened over plain HTTP (a NodePort, a port-forward to
  // a host name) would otherwise ask for its own script over HTTPS and never run. TLS, where there is any, ends
  // before the gateway, and HSTS still tells browsers to keep to HTTPS once they have seen it.
  const securityHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.use(requestId, securityHeaders, metrics.observe);
  if (deps.draining) app.use(closeWhileDraining(deps.draining));

  // Operations endpoints: never shed, limited or authenticated.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', metrics.expose);
  const openApi = servedOpenApi(deps.routes, deps.version);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi(new Date()));
  });
  app.use(docsRouter());
  const auth = authMiddleware(deps.verify);
  // An operator's page: like the docs, never shed (it reads the mesh at most every 400 ms, whoever polls).
  if (deps.console) app.use(consoleRouter(deps.console.feed, auth, deps.upstreamTimeoutMs));

  app.use(loadShedding(deps.maxInFlight, metrics.shed, metrics.inFlight));
  if (deps.corsOrigins.length) {
    app.use(
      cors({
        origin: [...deps.corsOrigins],
        allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id', 'traceparent'],
        exposedHeaders: ['x-request-id', 'location', 'retry-after', 'idempotent-replayed', 'traceparent'],
        maxAge: 600,
      }),
    );
  }
  app.use(jsonOnly, express.json({ limit: deps.bodyLimit, strict: true, type: 'application/json' }));
  app.use(
    apiRouter({
      routes: deps.routes,
      handlers: deps.handlers,
      ...(deps.refusals ? { refusals: deps.refusals } : {}),
      auth,
      ...(deps.console ? { observers: deps.console.observers } : {}),
      rateLimits: deps.rateLimits,
      idempotency: deps.idempotency,
      timeoutMs: deps.upstreamTimeoutMs,
      logger: deps.logger,
    }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

export { stateOf };
