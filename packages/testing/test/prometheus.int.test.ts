/**
 * The `prometheus` helper against the real local Prometheus (`scripts/infra.sh up`): a test names a tiny prom-client
 * server of its own in a target file, and its series appear, labelled with the test's unique job; once the file is
 * deleted Prometheus stops scraping it. A private Prometheus evaluates the shipped rules with shortened `for:`.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { Counter, Registry } from 'prom-client';
import { PROMETHEUS_RULES, prometheus, startPrometheus, waitFor } from '@flash-sale/testing';

let server: Server;
let port: number;
const registry = new Registry();
registry.setDefaultLabels({ service: 'helper-test' });
const calls = new Counter({ name: 'helper_test_calls_total', help: 'calls', registers: [registry] });

beforeAll(async () => {
  server = createServer((_req, res) => {
    void registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the prometheus helper', () => {
  it('when a test names its server in a target file, then its series appear under its own job, and stop with the file', async () => {
    calls.inc(3);
    const scrape = await prometheus.scrape('helper', [
      { address: `127.0.0.1:${port}`, labels: { service: 'helper-test' } },
    ]);
    try {
      const samples = await prometheus.waitFor(
        `helper_test_calls_total{job="${scrape.job}"}`,
        (found) => found.length === 1,
        { timeoutMs: 20_000 },
      );
      // honor_labels: the sample's own `service` stays, no exported_service beside it.
      expect(samples[0]).toEqual({
        metric: {
          __name__: 'helper_test_calls_total',
          job: scrape.job,
          service: 'helper-test',
          instance: `127.0.0.1:${port}`,
        },
        value: 3,
      });
      const up = await prometheus.query(`up{job="${scrape.job}"}`);
      expect(up.map((sample) => [sample.metric.service, sample.value])).toEqual([['helper-test', 1]]);
    } finally {
      await scrape();
    }
    // Without its file the target goes; its last samples go stale.
    await prometheus.waitFor(`up{job="${scrape.job}"}`, (found) => found.length === 0, { timeoutMs: 20_000 });
  }, 60_000);

  it('when the expression is not PromQL, then query says what Prometheus refused', async () => {
    await expect(prometheus.query('rate(')).rejects.toThrow(/query rate\(: .*parse error/);
  });

  it('when a private Prometheus loads the shipped rules with a short for:, then only the for: lines differ and an alert fires within seconds', async () => {
    const own = await startPrometheus({ rules: PROMETHEUS_RULES, alertsFor: '1s' });
    try {
      const rules = (await (await fetch(`${own.url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { type: string; name: string; duration: number }[] }[] };
      };
      const alerts = rules.data.groups.flatMap((group) => group.rules).filter((rule) => rule.type === 'alerting');
      const shipped = readFileSync(PROMETHEUS_RULES, 'utf8').match(/^\s+- alert: /gm)!.length;
      expect(alerts).toHaveLength(shipped);
      expect(new Set(alerts.map((rule) => rule.duration))).toEqual(new Set([0, 1]));

      // ServiceDown: a target named as a mesh service that nothing answers.
      const scrape = await own.scrape('nobody', [{ address: '127.0.0.1:9', labels: { service: 'order' } }]);
      const firing = await own.waitFor(
        `ALERTS{alertname="ServiceDown", alertstate="firing", job="${scrape.job}"}`,
        (found) => found.length === 1,
        { timeoutMs: 30_000 },
      );
      expect(firing[0]!.metric).toMatchObject({ service: 'order', severity: 'critical' });
      await scrape();
    } finally {
      await own.stop();
    }
    await waitFor(
      async () =>
        !(await fetch(`${own.url}/-/ready`).then(
          () => true,
          () => false,
        )),
      {
        what: 'the private Prometheus to stop',
      },
    );
  }, 60_000);
});
