import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Foundation } from './foundation';
import { servingState } from './probes';

/** The port each foundation's metrics server listens on, for its RunningService. */
const ports = new WeakMap<Foundation, number>();

/** The port `startMetrics` bound for `foundation` (0 asks for any free one), or undefined when it serves none. */
export const metricsPortOf = (foundation: Foundation): number | undefined => ports.get(foundation);

/**
 * A Prometheus registry for a service and, when `port` is set, a tiny plaintext HTTP server exposing it at
 * `/metrics`, with `/healthz` and `/readyz` for kubelet's probes (see ServingState); stopped on shutdown. gRPC
 * services keep these off the gRPC port, so neither scraping nor probing needs a gRPC client or a certificate.
 */
export async function startMetrics(foundation: Foundation, host: string, port: number | undefined): Promise<Registry> {
  const registry = new Registry();
  registry.setDefaultLabels({ service: foundation.name });
  collectDefaultMetrics({ register: registry });
  if (port === undefined) return registry;
  const probes = servingState(foundation);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const answer = probes.probe(path);
    if (answer) {
      res.writeHead(answer.code, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  foundation.shutdown.add('metrics server', () => new Promise<void>((resolve) => server.close(() => resolve())));
  const bound = (server.address() as { port: number }).port;
  ports.set(foundation, bound);
  foundation.logger.info({ port: bound }, 'metrics listening');
  return registry;
}
