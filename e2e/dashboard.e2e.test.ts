/**
 * Every query of the Grafana dashboard (deploy/helm/flash-sale/files/grafana/flash-sale.json) returns data from a real
 * Prometheus scraping a real mesh during a sale: a sale sells out (accepted, refused for the limit and for sold out,
 * then refused from the gateway's memory) while a second one keeps buyers buying and paying, so every rate moves.
 * Grafana's variables are given the values a user would see: all namespaces, a one-minute rate window.
 *
 * Waits for the contract's metrics (docs/observability.md): gRPC (grpc_server_*, grpc_client_*), flashsale_stock_*,
 * flashsale_reservations_total, flashsale_outbox_*, kafka_consumergroup_lag, flashsale_order_accept_to_row_seconds,
 * flashsale_payments_total, besides inventory_reconcile_drift, the gateway's and Node's own.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@flash-sale/testing';
import { client, newKey, tokenFor } from './http';
import { buy, openObservedSale, startObservedMesh, type ObservedMesh } from './observed-mesh';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(
  readFileSync(path.join(__dirname, '../deploy/helm/flash-sale/files/grafana/flash-sale.json'), 'utf8'),
) as { panels: Panel[] };
const queries = dashboard.panels
  .filter((panel) => panel.type !== 'row')
  .flatMap((panel) => (panel.targets ?? []).map(({ expr }) => ({ panel: panel.title, expr })));
/** What Grafana sends for the dashboard's variables: every namespace, and a one-minute window. */
const asGrafanaSends = (expr: string) => expr.replaceAll('$namespace', '.*').replaceAll('$__rate_interval', '1m');

let mesh: ObservedMesh;
let trickle: { stop(): Promise<number> } | undefined;

beforeAll(async () => {
  mesh = await startObservedMesh();
}, 180_000);

afterAll(async () => {
  await trickle?.stop();
  await mesh?.stop();
});

/** Buyers who buy a unit of `promotionId` one after the other and pay for it, until stopped; resolves to the count paid. */
function buyAndPay(url: string, promotionId: string) {
  let stopped = false;
  let paid = 0;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const buyer = client(url, await tokenFor(`trickle-${promotionId}-${i}`));
      const purchase = await buyer.post<{ orderId: string }>(
        `/v1/promotions/${promotionId}/purchase`,
        { quantity: 1 },
        { 'idempotency-key': newKey() },
      );
      if (purchase.status !== 202) throw new Error(`purchase answered ${purchase.status}`);
      const { orderId } = purchase.body;
      await waitFor(
        async () => (await buyer.get<{ status: string }>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT',
        {
          what: `order ${orderId} to be payable`,
          intervalMs: 100,
        },
      );
      const pay = await buyer.post(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() });
      if (pay.status !== 200) throw new Error(`pay answered ${pay.status}`);
      paid++;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return paid;
    },
  };
}

describe('the Grafana dashboard on a real mesh', () => {
  it('when a sale runs, then every panel query returns data', async () => {
    const { prometheus, scrape } = mesh;
    await prometheus.waitFor(`up{job="${scrape.job}"} == 1`, (up) => up.length === 5, {
      what: 'all five components scraped',
      timeoutMs: 30_000,
    });

    // A sale that sells out: a buyer over the limit, the last units, then buyers refused by inventory and, once the
    // gateway has heard it is sold out, from its memory.
    const small = await openObservedSale(mesh.url, { stock: 20, perUserLimit: 1 });
    const keen = `keen-${small}`;
    const first = await buy(mesh.url, small, [keen, keen], 1);
    expect(first.map((answer) => answer.code ?? answer.status)).toEqual([202, 'PURCHASE_LIMIT_REACHED']);
    const rest = await buy(
      mesh.url,
      small,
      Array.from({ length: 40 }, (_, i) => `buyer-${small}-${i}`),
      8,
    );
    expect(rest.filter((answer) => answer.status === 202)).toHaveLength(19);
    expect(new Set(rest.filter((answer) => answer.status !== 202).map((answer) => answer.code))).toEqual(
      new Set(['SOLD_OUT']),
    );
    await waitFor(
      async () => {
        await buy(mesh.url, small, [`late-${small}-${newKey()}`]);
        return (await prometheus.query('sum(gateway_sold_out_rejections_total) > 0')).length > 0;
      },
      { what: 'buyers refused from the gateway memory', timeoutMs: 20_000, intervalMs: 200 },
    );

    // A second sale keeps buyers buying and paying while the queries are checked, so every rate moves.
    trickle = buyAndPay(mesh.url, await openObservedSale(mesh.url, { stock: 10_000, perUserLimit: 1 }));

    let missing: string[] = [];
    await waitFor(
      async () => {
        missing = [];
        for (const { panel, expr } of queries) {
          const samples = await prometheus.query(asGrafanaSends(expr));
          if (!samples.some((sample) => Number.isFinite(sample.value))) missing.push(`${panel}: ${expr}`);
        }
        return missing.length === 0;
      },
      { what: 'data for every panel', timeoutMs: 60_000, intervalMs: 2_000 },
    ).catch(() => undefined);
    expect(missing).toEqual([]);
    expect(await trickle.stop()).toBeGreaterThan(0);
    trickle = undefined;
  }, 240_000);
});
