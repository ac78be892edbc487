#!/usr/bin/env node
/**
 * Proves kafkajs works against the local broker the way the mesh uses it: an idempotent producer (acks all)
 * writes to a scratch topic; a consumer group reads everything and commits; a new member of the same group
 * then reads nothing already committed. Exit 0 on success. `bash scripts/infra.sh verify` runs it.
 */
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'verify-kafka', brokers, logLevel: logLevel.NOTHING });
const topic = `verify.${Date.now()}`;
const groupId = `${topic}.group`;
const COUNT = 100;

async function consume(expected, timeoutMs) {
  const consumer = kafka.consumer({ groupId });
  const seen = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value.toString()) });
  const deadline = Date.now() + timeoutMs;
  while (seen.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, expected === 0 ? 3000 : 200));
  await consumer.disconnect();
  return seen;
}

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: COUNT }, (_, i) => ({ key: String(i % 7), value: String(i) })),
  });
  await producer.disconnect();
  const first = await consume(COUNT, 30_000);
  const again = await consume(0, 10_000);
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  const ok = first.length === COUNT && new Set(first).size === COUNT && again.length === 0;
  console.log(
    `kafkajs: produced ${COUNT} (idempotent, acks all), group read ${first.length}, re-read after commit ${again.length}: ${ok ? 'OK' : 'FAILED'}`,
  );
  process.exit(ok ? 0 : 1);
})().catch((error) => {
  console.error(`kafkajs verification failed: ${error.message}`);
  process.exit(1);
});
