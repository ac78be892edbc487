/**
 * A mesh whose every process is scraped by a Prometheus of the test's own: the four services as processes of their
 * own (so one can be stopped mid-sale, as a crashed pod would be), each serving /metrics on a free METRICS_PORT, and
 * the gateway, whose /metrics is on its HTTP port. The target file labels each one with its `service`, as the chart's
 * monitors do.
 */
import { readFileSync } from 'node:fs';
import {
  serviceEnv,
  startPrometheus,
  startServiceProcess,
  waitFor,
  type PrivatePrometheus,
  type PrivatePrometheusOptions,
  type Scrape,
  type ServiceProcess,
} from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor } from './http';
import { gatewayEnv } from './mesh';

export type Component = 'gateway' | 'promotion' | 'inventory' | 'order' | 'payment';

export interface ObservedMesh {
  url: string;
  prometheus: PrivatePrometheus;
  processes: Record<Component, ServiceProcess>;
  scrape: Scrape;
  /** Starts the order service again (after the test stopped it), on its old metrics target. */
  restartOrder(): Promise<void>;
  stop(): Promise<void>;
}

/** The port a process logged with `metrics listening`. */
const metricsPort = (process: ServiceProcess) =>
  waitFor(
    async () =>
      readFileSync(process.logPath, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg?: string; port?: number })
        .find((line) => line.msg === 'metrics listening')?.port,
    { what: `the metrics port in ${process.logPath}`, timeoutMs: 10_000 },
  );

const ENTRIES = {
  promotion: 'services/promotion/src/main.ts',
  inventory: 'services/inventory/src/main.ts',
  order: 'services/order/src/main.ts',
  payment: 'services/payment/src/main.ts',
};

export async function startObservedMesh(options: PrivatePrometheusOptions = {}): Promise<ObservedMesh> {
  const prometheus = await startPrometheus(options);
  const processes: Partial<Record<Component, ServiceProcess>> = {};
  const address = (port: number) => `127.0.0.1:${port}`;
  const start = (name: keyof typeof ENTRIES, role: Parameters<typeof serviceEnv>[0], extra: Record<string, string>) =>
    startServiceProcess(`observed-${name}`, ENTRIES[name], serviceEnv(role, { METRICS_PORT: '0', ...extra }));
  try {
    processes.inventory = await start('inventory', 'inventory', {});
    const inventoryAddr = address(processes.inventory.port);
    const orderEnv = { INVENTORY_ADDR: inventoryAddr };
    [processes.order, processes.promotion] = await Promise.all([
      start('order', 'orders', orderEnv),
      start('promotion', 'promotion', { INVENTORY_ADDR: inventoryAddr }),
    ]);
    processes.payment = await start('payment', 'payment', {
      ORDER_ADDR: address(processes.order.port),
      PROVIDER_LATENCY_MS: '5',
    });
    processes.gateway = await startServiceProcess(
      'observed-gateway',
      'gateway/src/main.ts',
      gatewayEnv({
        PROMOTION_ADDR: address(processes.promotion.port),
        INVENTORY_ADDR: inventoryAddr,
        ORDER_ADDR: address(processes.order.port),
        PAYMENT_ADDR: address(processes.payment.port),
      }),
      { listening: 'gateway listening' },
    );
    const ports: Record<string, number> = { gateway: processes.gateway.port };
    for (const name of Object.keys(ENTRIES) as (keyof typeof ENTRIES)[])
      ports[name] = await metricsPort(processes[name]!);
    const scrape = await prometheus.scrape(
      'observed-mesh',
      Object.entries(ports).map(([service, port]) => ({ address: address(port), labels: { service } })),
    );
    const all = () => Object.values(processes) as ServiceProcess[];
    return {
      url: `http://127.0.0.1:${processes.gateway.port}`,
      prometheus,
      processes: processes as Record<Component, ServiceProcess>,
      scrape,
      async restartOrder() {
        // The same metrics port, so the same target: Prometheus sees the process come back.
        processes.order = await start('order', 'orders', { ...orderEnv, METRICS_PORT: String(ports.order) });
      },
      async stop() {
        await scrape();
        await Promise.all(all().map((process) => process.kill('SIGTERM')));
        await prometheus.stop();
      },
    };
  } catch (error) {
    await Promise.all((Object.values(processes) as ServiceProcess[]).map((process) => process.kill('SIGTERM')));
    await prometheus.stop();
    throw error;
  }
}

/** Opens a sale (openSale's fields, with `sale` over them) through the gateway, as an admin. */
export async function openObservedSale(url: string, sale: Record<string, unknown>): Promise<string> {
  const admin = client(url, await tokenFor(`admin-observed-${newKey()}`, true));
  const created = await admin.post<{ id: string }>('/v1/promotions', openSale(sale));
  if (created.status !== 201)
    throw new Error(`the sale was not created: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

export interface Answer {
  buyer: string;
  status: number;
  orderId?: string;
  code?: string;
}

/** Each buyer purchases one unit (a new key each), `concurrency` at a time. */
export async function buy(url: string, promotionId: string, buyers: string[], concurrency = 16): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < buyers.length) {
      const buyer = buyers[next++]!;
      const reply = await client(url, await tokenFor(buyer)).post<{ orderId?: string; code?: string }>(
        `/v1/promotions/${promotionId}/purchase`,
        { quantity: 1 },
        { 'idempotency-key': newKey() },
      );
      answers.push({ buyer, status: reply.status, orderId: reply.body.orderId, code: reply.body.code });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}
