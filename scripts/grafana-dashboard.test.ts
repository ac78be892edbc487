/**
 * The Grafana dashboard (deploy/helm/flash-sale/files/grafana/flash-sale.json, which the chart ships in a ConfigMap):
 * its data source is a variable, every panel has a query, and every query uses only metrics the mesh serves (the
 * observability contract's names, or Node's defaults from prom-client), so no panel stays empty from a typo.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { metricNames } from './promql';

/** The names of docs/observability.md's metrics (the contract every component serves). */
const CONTRACT = [
  'grpc_server_started_total',
  'grpc_server_handled_total',
  'grpc_server_handling_seconds',
  'grpc_client_started_total',
  'grpc_client_handled_total',
  'grpc_client_handling_seconds',
  'flashsale_stock_available',
  'flashsale_stock_total',
  'flashsale_reservations_total',
  'flashsale_outbox_pending',
  'flashsale_outbox_oldest_age_seconds',
  'kafka_consumergroup_lag',
  'flashsale_order_accept_to_row_seconds',
  'flashsale_payments_total',
  'inventory_reconcile_drift',
  'gateway_sold_out_rejections_total',
  'gateway_http_request_duration_seconds',
  'gateway_http_requests_total',
];
const HISTOGRAMS = CONTRACT.filter((name) => name.endsWith('_seconds') && !name.includes('age'));

async function promClientDefaults(): Promise<string[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = await registry.getMetricsAsJSON();
  return metrics.flatMap((metric) =>
    // Typed as an enum, served as the text Prometheus uses.
    String(metric.type) === 'histogram'
      ? ['_bucket', '_sum', '_count'].map((end) => `${metric.name}${end}`)
      : [metric.name],
  );
}

interface Target {
  expr?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}
const dashboard = JSON.parse(
  readFileSync(path.join(__dirname, '../deploy/helm/flash-sale/files/grafana/flash-sale.json'), 'utf8'),
) as { uid: string; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } };
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((row) => row.title);

describe('the Grafana dashboard', () => {
  it('when imported, then it asks which Prometheus to use and every panel and query uses that choice', () => {
    expect(dashboard.templating.list.find((variable) => variable.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: '${datasource}' });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('${datasource}');
    }
  });

  it('when read, then it has the rows an on-call engineer looks at, in order', () => {
    expect(rows.map((title) => title.split(' ')[0])).toEqual(['Sale', 'gRPC', 'Kafka', 'Reconciliation', 'Pods']);
  });

  it('when read, then every panel has at least one query, and ids are unique', () => {
    const empty = panels
      .filter((panel) => !panel.targets?.length || panel.targets.some((target) => !target.expr?.trim()))
      .map((panel) => panel.title);
    expect(empty).toEqual([]);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('when a query names a metric, then the contract or prom-client names it', async () => {
    const known = new Set([
      ...CONTRACT,
      ...HISTOGRAMS.flatMap((name) => ['_bucket', '_sum', '_count'].map((end) => `${name}${end}`)),
      ...(await promClientDefaults()),
    ]);
    const unknown = panels.flatMap((panel) =>
      (panel.targets ?? []).flatMap((target) =>
        metricNames(target.expr!)
          .filter((name) => !known.has(name))
          .map((name) => `${panel.title}: ${name}`),
      ),
    );
    expect(unknown).toEqual([]);
    // It shows the figures the sale is judged by.
    const used = new Set(
      panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricNames(target.expr!))),
    );
    for (const name of [
      'flashsale_stock_available',
      'flashsale_reservations_total',
      'gateway_sold_out_rejections_total',
      'flashsale_order_accept_to_row_seconds_bucket',
      'flashsale_payments_total',
      'grpc_server_handled_total',
      'grpc_server_handling_seconds_bucket',
      'kafka_consumergroup_lag',
      'flashsale_outbox_oldest_age_seconds',
      'inventory_reconcile_drift',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(used).toContain(name);
  });

  it('when laid out, then panels fit the 24-column grid without overlapping', () => {
    const cells = new Set<string>();
    for (const { gridPos, title } of dashboard.panels) {
      expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect({ title, cell: `${x},${y}`, taken: cells.has(`${x},${y}`) }).toMatchObject({ taken: false });
          cells.add(`${x},${y}`);
        }
    }
  });
});
