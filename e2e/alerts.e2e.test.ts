/**
 * The shipped alert rules against a real mesh and a real Prometheus: the order service stops in the middle of a sale,
 * and while buyers keep buying (purchases do not need it) its consumer group falls behind on order.requested until
 * KafkaConsumerLagHigh fires; ServiceDown fires for the stopped process too. When it is back, it catches up and both
 * clear.
 *
 * The Prometheus is the test's own (packages/testing startPrometheus), loading rules.yaml with one change: every
 * alert's `for:` is 2 s instead of minutes, so an alert fires within the test. Thresholds and expressions are the
 * shipped ones, so the sale is big enough to pass KafkaConsumerLagHigh's 1,000 events.
 *
 * Waits for kafka_consumergroup_lag{consumergroup, topic, partition} (docs/observability.md), which the Kafka-using
 * services report for every consumer group of the mesh, read from the broker, so it stays while the consumer is down.
 */
import { PROMETHEUS_RULES, testGroupPrefix, testTopics } from '@flash-sale/testing';
import { buy, openObservedSale, startObservedMesh, type ObservedMesh } from './observed-mesh';

const GROUP = `${testGroupPrefix}order.requests-and-payments`;
const TOPIC = testTopics.OrderRequested;
const THRESHOLD = 1_000;
let mesh: ObservedMesh;

beforeAll(async () => {
  mesh = await startObservedMesh({ rules: PROMETHEUS_RULES, alertsFor: '2s' });
}, 180_000);

afterAll(async () => {
  await mesh?.stop();
});

const alerts = (name: string, labels: string) => mesh.prometheus.query(`ALERTS{alertname="${name}", ${labels}}`);

describe('alerts on a real mesh', () => {
  it('when the order service stops during a sale, then ServiceDown and KafkaConsumerLagHigh fire for it, and clear when it is back', async () => {
    const { prometheus, scrape } = mesh;
    await prometheus.waitFor(`up{job="${scrape.job}"} == 1`, (up) => up.length === 5, {
      what: 'all five components scraped',
      timeoutMs: 30_000,
    });
    const lag = `consumergroup_topic:kafka_consumergroup_lag:sum{consumergroup="${GROUP}", topic="${TOPIC}"}`;
    await prometheus.waitFor(lag, (found) => found.length === 1, {
      what: `kafka_consumergroup_lag for ${GROUP} on ${TOPIC} (reported by the Kafka-using services)`,
      timeoutMs: 30_000,
    });

    // The sale starts with every component up: the order group keeps up, nothing fires.
    const promotionId = await openObservedSale(mesh.url, { stock: THRESHOLD + 300, perUserLimit: 1 });
    const early = await buy(
      mesh.url,
      promotionId,
      Array.from({ length: 20 }, (_, i) => `early-${promotionId}-${i}`),
    );
    expect(early.filter((answer) => answer.status !== 202)).toEqual([]);
    await prometheus.waitFor(lag, (found) => found[0]?.value === 0, {
      what: 'the order group to read the early purchases',
    });
    expect(await alerts('KafkaConsumerLagHigh', `consumergroup="${GROUP}"`)).toEqual([]);

    await mesh.processes.order.kill('SIGTERM');
    const down = await prometheus.waitFor(
      `ALERTS{alertname="ServiceDown", alertstate="firing", job="${scrape.job}"}`,
      (found) => found.length > 0,
      { what: 'ServiceDown for the stopped order service', timeoutMs: 30_000 },
    );
    expect(down.map((alert) => [alert.metric.service, alert.metric.severity])).toEqual([['order', 'critical']]);

    // Buyers keep buying: every purchase is accepted and waits in Kafka for the order service.
    const buyers = Array.from({ length: THRESHOLD + 100 }, (_, i) => `late-${promotionId}-${i}`);
    const late = await buy(mesh.url, promotionId, buyers, 24);
    expect(late.filter((answer) => answer.status !== 202)).toEqual([]);

    const firing = await prometheus.waitFor(
      `ALERTS{alertname="KafkaConsumerLagHigh", alertstate="firing", consumergroup="${GROUP}"}`,
      (found) => found.length === 1,
      { what: `KafkaConsumerLagHigh for ${GROUP}`, timeoutMs: 60_000 },
    );
    expect(firing[0]!.metric).toMatchObject({ topic: TOPIC, severity: 'warning' });
    expect((await prometheus.query(lag))[0]!.value).toBeGreaterThan(THRESHOLD);

    // Back: it reads on from its committed offsets, the lag drains and both alerts clear.
    await mesh.restartOrder();
    await prometheus.waitFor(
      `ALERTS{alertname="ServiceDown", job="${scrape.job}"} or ALERTS{alertname="KafkaConsumerLagHigh", consumergroup="${GROUP}"}`,
      (found) => found.length === 0,
      { what: 'both alerts to clear once the order service is back', timeoutMs: 90_000 },
    );
    expect((await prometheus.query(lag))[0]!.value).toBe(0);
  }, 300_000);
});
