import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Foundation } from './foundation';

/**
 * A Prometheus registry for a service and, when `port` is set, a tiny HTTP server exposing it at `/metrics`
 * (stopped on shutdown). gRPC services keep their metrics off the gRPC port so scraping needs no gRPC client.
 */
export async function startMetrics(foundation: Foundation, host: string, port: number | undefined): Promise<Registry> {
  const registry = new Registry();
  registry.setDefaultLabels({ service: foundation.name });
  collectDefaultMetrics({ register: registry });
  if (port === undefined) return registry;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
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
  foundation.logger.info({ port: (server.address() as { port: number }).port }, 'metrics listening');
  return registry;
}
