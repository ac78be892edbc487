import { Registry } from 'prom-client';
import { createLogger } from '@flash-sale/logging';
import { consumerGroups, ConsumerGroups } from './consumer-groups';
import { readConsumerLag, registerConsumerLag, type OffsetsAdmin } from './consumer-lag';
import { registerOutboxGauges } from './outbox-metrics';
import { scrapeCache } from './scrape-cache';
import { topicNames } from './topics';

const logger = createLogger({ service: 'scrape-metrics-test', level: 'silent' });

describe('scrapeCache', () => {
  it('when scrapes come while a read runs or soon after it, then they share it; later ones read again', async () => {
    let reads = 0;
    let release: () => void = () => undefined;
    const read = scrapeCache(
      () => {
        reads += 1;
        return new Promise<number>((resolve) => (release = () => resolve(reads)));
      },
      { maxAgeMs: 50, timeoutMs: 1_000 },
    );
    const [a, b] = [read(), read()];
    release();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect(await read()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const c = read();
    release();
    expect(await c).toBe(2);
  });

  it('when the read outlasts the timeout, then the scrape fails and the next one waits for the same read', async () => {
    let reads = 0;
    let release: () => void = () => undefined;
    const read = scrapeCache(
      () => {
        reads += 1;
        return new Promise<string>((resolve) => (release = () => resolve('late')));
      },
      { maxAgeMs: 1_000, timeoutMs: 20 },
    );
    await expect(read()).rejects.toThrow('no answer within 20 ms');
    const again = read();
    release();
    expect(await again).toBe('late');
    expect(reads).toBe(1);
  });
});

describe('consumer groups', () => {
  it('when the mesh names its groups, then each is behind the group prefix and reads topics behind the topic prefix', () => {
    const groups = consumerGroups('test-1.', topicNames('t.'));
    expect(groups.OrderRequestsAndPayments).toEqual({
      groupId: 'test-1.order.requests-and-payments',
      topics: ['t.order.requested', 't.payment.events'],
    });
    expect(Object.keys(groups)).toEqual(Object.keys(ConsumerGroups));
  });
});

/** A broker with `order.requested` at offsets 10 and 4 on its two partitions. */
const admin = (committed: Record<string, Record<number, string>>): OffsetsAdmin =>
  ({
    fetchTopicOffsets: async () => [
      { partition: 0, offset: '10', high: '10', low: '0' },
      { partition: 1, offset: '4', high: '4', low: '0' },
    ],
    fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
      topics.map((topic) => ({
        topic,
        partitions: [0, 1].map((partition) => ({ partition, offset: committed[groupId]?.[partition] ?? '-1' })),
      })),
  }) as unknown as OffsetsAdmin;

describe('consumer group lag', () => {
  const groups = [
    { groupId: 'g.order', topics: ['order.requested'] },
    { groupId: 'g.ledger', topics: ['order.requested'] },
  ];

  it('when groups committed some offsets, then each partition they committed on has end minus committed', async () => {
    const lags = await readConsumerLag(admin({ 'g.order': { 0: '7', 1: '4' }, 'g.ledger': { 1: '1' } }), groups);
    expect(lags).toEqual([
      { consumergroup: 'g.order', topic: 'order.requested', partition: '0', lag: 3 },
      { consumergroup: 'g.order', topic: 'order.requested', partition: '1', lag: 0 },
      { consumergroup: 'g.ledger', topic: 'order.requested', partition: '1', lag: 3 },
    ]);
  });

  it('when scraped, then the gauge has a series per partition; when the broker fails, then none and no error', async () => {
    const registry = new Registry();
    let broken = false;
    const flaky = admin({ 'g.order': { 0: '2' } });
    const real = flaky.fetchTopicOffsets;
    flaky.fetchTopicOffsets = (topic) => (broken ? Promise.reject(new Error('broker away')) : real(topic));
    registerConsumerLag(registry, flaky, groups, logger, { maxAgeMs: 0 });
    expect(await registry.metrics()).toContain(
      'kafka_consumergroup_lag{consumergroup="g.order",topic="order.requested",partition="0"} 8',
    );
    broken = true;
    expect(await registry.metrics()).not.toContain('kafka_consumergroup_lag{');
  });
});

describe('outbox gauges', () => {
  it('when scraped, then both gauges come from one read; when it fails, then they are absent', async () => {
    const registry = new Registry();
    let reads = 0;
    let failing = false;
    registerOutboxGauges(
      registry,
      'postgres',
      async () => {
        reads += 1;
        if (failing) throw new Error('database away');
        return { pending: 3, oldestAgeSeconds: 1.5 };
      },
      logger,
    );
    const text = await registry.metrics();
    expect(text).toContain('flashsale_outbox_pending{outbox="postgres"} 3');
    expect(text).toContain('flashsale_outbox_oldest_age_seconds{outbox="postgres"} 1.5');
    expect(reads).toBe(1);
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await registry.metrics()).not.toContain('{outbox="postgres"}');
  });
});
