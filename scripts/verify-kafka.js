#!/usr/bin/env node
/**
 * Proves kafkajs works against the broker the way the mesh uses it (`bash scripts/infra.sh verify` runs it):
 *  1. creates a scratch topic (3 partitions);
 *  2. an idempotent producer (acks -1, so it must obtain a producer id) sends N keyed messages;
 *  3. consumer 1 in a fresh consumer group reads all N exactly once and its offsets are committed;
 *  4. after consumer 1 leaves, consumer 2 joins the same group and reads nothing (nothing new), then reads
 *     exactly the M messages produced after it joined, and the group's committed offsets reach N + M;
 *  5. deletes the scratch topic and group (also on failure).
 * Environment: KAFKA_BROKERS (default 127.0.0.1:9092), VERIFY_MESSAGES (N, default 200). Exit 0 on success.
 */
'use strict';

const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
  .split(',')
  .map((broker) => broker.trim())
  .filter(Boolean);
const COUNT = Number(process.env.VERIFY_MESSAGES || 200);
const MORE = 20;
const topic = `verify-kafka.${Date.now()}.${process.pid}`;
const groupId = `${topic}.group`;

// kafkajs reports the producer id only in its debug log; keep that, and the warnings for a failure report.
const producerIds = [];
const warnings = [];
const logCreator =
  () =>
  ({ namespace, level, log }) => {
    if (log.message === 'Initialized producer id & epoch') producerIds.push(`${log.producerId}/${log.producerEpoch}`);
    if (level <= logLevel.WARN) warnings.push(`${namespace}: ${log.message}${log.error ? ` (${log.error})` : ''}`);
  };
const kafka = new Kafka({ clientId: 'verify-kafka', brokers, logLevel: logLevel.DEBUG, logCreator });

const started = Date.now();
const step = (message) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function messages(from, count) {
  return Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 17}`, value: String(from + i) }));
}

/** A member of the group that records what it reads and when it has joined. */
async function startConsumer(name) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, sessionTimeout: 10000, heartbeatInterval: 1000 });
  const read = [];
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void read.push(Number(message.value.toString())) });
  await until(`${name} to join ${groupId}`, () => joined, 30000);
  return { consumer, read };
}

async function committed(admin) {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets.partitions.reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
}

function exactlyOnce(read, from, count) {
  const distinct = new Set(read);
  return (
    read.length === count && distinct.size === count && read.every((value) => value >= from && value < from + count)
  );
}

async function main() {
  console.log(`verify-kafka: kafkajs ${require('kafkajs/package.json').version} against ${brokers.join(',')}`);
  const admin = kafka.admin();
  const open = [];
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    step(`cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), controller ${cluster.controller}`);

    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
    step(`created scratch topic ${topic} (3 partitions)`);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    open.push(producer);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: messages(0, COUNT) });
    if (producerIds.length === 0) throw new Error('the idempotent producer never obtained a producer id');
    step(`idempotent producer (id/epoch ${producerIds[0]}) sent ${COUNT} messages with acks -1`);

    const first = await startConsumer('consumer 1');
    open.push(first.consumer);
    await until(`consumer 1 to read ${COUNT} messages`, () => first.read.length >= COUNT, 30000);
    await sleep(500); // anything read twice would show up now
    await first.consumer.disconnect(); // commits what it has processed, then leaves the group
    open.pop();
    const afterFirst = await committed(admin);
    if (!exactlyOnce(first.read, 0, COUNT)) {
      throw new Error(`consumer 1 read ${first.read.length} messages (${new Set(first.read).size} distinct)`);
    }
    if (afterFirst !== COUNT) throw new Error(`group committed ${afterFirst} offsets after consumer 1, not ${COUNT}`);
    step(`consumer 1 (group ${groupId}) read ${COUNT}/${COUNT} exactly once; committed offsets ${afterFirst}`);

    const second = await startConsumer('consumer 2');
    open.push(second.consumer);
    await sleep(2000);
    if (second.read.length !== 0) {
      throw new Error(`consumer 2 re-read ${second.read.length} already committed messages`);
    }
    step('consumer 2 (same group, after consumer 1 left) joined and read nothing new in 2 s');

    await producer.send({ topic, acks: -1, messages: messages(COUNT, MORE) });
    await until(`consumer 2 to read ${MORE} new messages`, () => second.read.length >= MORE, 30000);
    await sleep(500);
    await second.consumer.disconnect();
    open.pop();
    const afterSecond = await committed(admin);
    if (!exactlyOnce(second.read, COUNT, MORE)) {
      throw new Error(`consumer 2 read ${JSON.stringify(second.read)}, expected exactly ${COUNT}..${COUNT + MORE - 1}`);
    }
    if (afterSecond !== COUNT + MORE) {
      throw new Error(`group committed ${afterSecond} offsets after consumer 2, not ${COUNT + MORE}`);
    }
    step(`${MORE} more sent: consumer 2 read exactly those ${MORE}; committed offsets ${afterSecond}`);
    await producer.disconnect();
    open.splice(open.indexOf(producer), 1);
  } finally {
    for (const client of open.reverse()) await client.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin
      .deleteTopics({ topics: [topic] })
      .catch((error) => console.error(`  cannot delete ${topic}: ${error.message}`));
    await admin.disconnect().catch(() => {});
  }
  step(`deleted ${topic} and its group`);
  console.log('verify-kafka: OK');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`verify-kafka: FAILED: ${error.message}`);
    for (const warning of warnings.slice(-15)) console.error(`  kafkajs ${warning}`);
    process.exit(1);
  },
);
