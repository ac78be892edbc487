import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage } from 'kafkajs';
import { createLogger } from '@flash-sale/logging';
import { infra, uniqueSuffix, waitFor } from '@flash-sale/testing';
import { startConsumer } from '../src';

const kafka = new Kafka({
  clientId: `commits-test-${uniqueSuffix()}`,
  brokers: infra.kafkaBrokers.split(','),
  logLevel: logLevel.NOTHING,
});
const logger = createLogger({ service: 'consumer-commits-test', level: 'silent' });
const topic = `test.commits.${uniqueSuffix()}`;
const PARTITIONS = 4;
const admin = kafka.admin();
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const consumers: Consumer[] = [];

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await producer.connect();
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.disconnect()));
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

async function produce(from: number, count: number) {
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: String(from + i) }));
  await producer.send({ topic, acks: -1, messages });
}

/** A consumer of the test topic that records every message value it handled and counts its batches and commits. */
async function consume(groupId: string, commitIntervalMs?: number) {
  const seen: string[] = [];
  let batches = 0;
  let commits = 0;
  const consumer = await startConsumer({
    kafka,
    groupId,
    topics: [topic],
    logger,
    commitIntervalMs,
    newGroupStartsAt: 'end',
    handler: async (messages: KafkaMessage[]) => {
      batches++;
      for (const message of messages) seen.push(message.value!.toString());
    },
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, () => commits++);
  consumers.push(consumer);
  return { consumer, seen, batches: () => batches, commits: () => commits };
}

async function lag(groupId: string) {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const at = new Map(committed!.partitions.map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((sum, { partition, high }) => sum + Number(high) - Math.max(at.get(partition) ?? 0, 0), 0);
}

describe('consumer offset commits', () => {
  it('when batches keep arriving and then stop, then the last is committed without new messages, in fewer commit requests than batches', async () => {
    const groupId = `test-commits-${uniqueSuffix()}`;
    const run = await consume(groupId);
    for (let round = 0; round < 15; round++) {
      await produce(round * 20, 20);
      // Pacing, not a wait for a result: the rounds keep arriving for a while, over many fetches and commit intervals.
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await waitFor(async () => run.seen.length === 300, { what: 'all 300 messages handled' });
    await waitFor(async () => (await lag(groupId)) === 0, { what: 'the group committed every message' });
    expect(run.batches()).toBeGreaterThan(4);
    expect(run.commits()).toBeLessThan(run.batches());
  });

  it('when a consumer disconnects before its commit interval is up, then what it handled is committed: the next member reads only new messages', async () => {
    const groupId = `test-commits-${uniqueSuffix()}`;
    const first = await consume(groupId, 60_000);
    await produce(1_000, 50);
    await waitFor(async () => first.seen.length === 50, { what: 'the first 50 messages handled' });
    await first.consumer.disconnect();
    expect(await lag(groupId)).toBe(0);

    const second = await consume(groupId, 60_000);
    await produce(2_000, 5);
    // A marker behind them on every partition: once all are handled, anything read again would have come first.
    const markers = Array.from({ length: PARTITIONS }, (_, partition) => `marker-${partition}`);
    await producer.send({
      topic,
      acks: -1,
      messages: markers.map((value, partition) => ({ key: value, value, partition })),
    });
    await waitFor(async () => markers.every((marker) => second.seen.includes(marker)), {
      what: 'the markers behind the next 5 messages handled',
    });
    const values = second.seen.filter((value) => !markers.includes(value));
    expect(values.sort()).toEqual(['2000', '2001', '2002', '2003', '2004']);
  });
});
