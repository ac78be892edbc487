/**
 * The two ceilings the flash sale is compared with, served by the same kind of process the gateway is:
 *   node     a bare Node `http` server answering the purchase's 202 body
 *   express  the gateway's own Express app (same middleware: request id, helmet, metrics, load shedding, JSON
 *            parsing, JWT verification, rate-limit and validation steps, the route table) whose operations answer
 *            at once: no Redis, no upstream call
 * Usage: floor-server.ts <node|express> <port> <jwt secret>
 */
import { createServer } from 'node:http';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { createLogger } from '@flash-sale/logging';
import { createApp } from '../gateway/src/app';
import type { Handler } from '../gateway/src/api/handlers';
import { routeTable } from '../gateway/src/api/route-table';
import { createJwtVerifier } from '../gateway/src/auth/jwt';
import type { IdempotencyStore } from '../gateway/src/http/idempotency';
import { createMetrics } from '../gateway/src/http/metrics';

const [kind, port, secret] = process.argv.slice(2);
const ACCEPTED = JSON.stringify({ orderId: '385718209098100774', status: 'PENDING' });

if (kind === 'node') {
  createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ACCEPTED) });
      res.end(ACCEPTED);
    });
  }).listen(Number(port), '127.0.0.1', () => process.send?.('listening'));
} else {
  const routes = routeTable(meshHttpRules(descriptorSetPath));
  const immediate: Handler = async () => ({ status: 202, body: JSON.parse(ACCEPTED) as unknown });
  const noKeys: IdempotencyStore = {
    claim: async () => ({ kind: 'new' }),
    peek: async () => ({ kind: 'new' }),
    complete: async () => {},
    release: async () => {},
  };
  const pass = (_req: unknown, _res: unknown, next: () => void) => next();
  const app = createApp({
    logger: createLogger({ service: 'express-floor', level: 'warn' }),
    verify: createJwtVerifier({ key: { algorithm: 'HS256', secret: secret! }, clockToleranceSeconds: 30 }),
    handlers: Object.fromEntries(routes.map((route) => [route.spec.rpc, immediate])),
    readiness: async () => ({}),
    upstreamTimeoutMs: 3_000,
    bodyLimit: '16kb',
    routes,
    idempotency: noKeys,
    rateLimits: { ip: pass, user: pass, checkUser: async () => undefined },
    metrics: createMetrics(),
    maxInFlight: 0,
    corsOrigins: [],
    version: 'floor',
  });
  app.listen(Number(port), '127.0.0.1', () => process.send?.('listening'));
}
