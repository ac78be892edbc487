import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of the gateway: requests by route and status, their latency, upstream failures, retries and
 * circuit states, and the requests refused from memory (sold out), by rate limits and by load shedding. The gRPC
 * RED metrics of its upstream calls and of its gRPC door join the same registry (see GrpcMetrics).
 */
export function createMetrics() {
  const registry = new Registry();
  // As every service's: one label says whose series these are, wherever they are gathered.
  registry.setDefaultLabels({ service: 'gateway' });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const soldOutRejections = new Counter({
    name: 'gateway_sold_out_rejections_total',
    help: 'Purchases answered 409 SOLD_OUT from the in-memory sold-out set, without calling inventory',
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused with 429 by scope (ip or user)',
    labelNames: ['scope'] as const,
    registers: [registry],
  });
  const shed = new Counter({
    name: 'gateway_shed_total',
    help: 'Requests refused with 503 OVERLOADED because too many were in flight',
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'gateway_in_flight_requests',
    help: 'Requests being served now',
    registers: [registry],
  });
  const upstreamFailures = new Counter({
    name: 'gateway_upstream_failures_total',
    help: 'Failed upstream calls by upstream and gRPC status (CIRCUIT_OPEN: refused by the open circuit)',
    labelNames: ['upstream', 'code'] as const,
    registers: [registry],
  });
  const upstreamRetries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Upstream calls sent again after UNAVAILABLE',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  const circuitState = new Gauge({
    name: 'gateway_upstream_circuit_state',
    help: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  const STATES = { closed: 0, 'half-open': 1, open: 2 } as const;
  const upstreamEvents = {
    failure: (upstream: string, code: string) => upstreamFailures.inc({ upstream, code }),
    retry: (upstream: string) => upstreamRetries.inc({ upstream }),
    state: (upstream: string, state: keyof typeof STATES) => circuitState.set({ upstream }, STATES[state]),
  };

  const observe: RequestHandler = (req, res, next) => {
    const end = latency.startTimer();
    res.once('finish', () => {
      // The matched route pattern, not the raw path, so ids do not explode the label set.
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      end({ method: req.method, route });
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  const expose: RequestHandler = async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };

  return {
    registry,
    observe,
    expose,
    soldOutRejections,
    rateLimited: (scope: 'ip' | 'user') => rateLimited.inc({ scope }),
    shed: () => shed.inc(),
    inFlight: (count: number) => inFlight.set(count),
    upstreamEvents,
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
