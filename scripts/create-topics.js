#!/usr/bin/env node
/**
 * Creates the mesh's Kafka topics that do not exist yet (idempotent): `node scripts/create-topics.js
 * [--topics FILE]`, brokers from KAFKA_BROKERS (default 127.0.0.1:9092), replication factor from
 * KAFKA_REPLICATION_FACTOR (default 1). Also run by the Helm chart's topic Job.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Kafka, logLevel } = require('kafkajs');

const args = process.argv.slice(2);
const file = args.includes('--topics')
  ? args[args.indexOf('--topics') + 1]
  : join(__dirname, '..', 'infra', 'topics.json');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const replicationFactor = Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1);
const deadline = Date.now() + Number(process.env.KAFKA_TOPICS_TIMEOUT_MS ?? 60_000);

async function attempt() {
  const topics = JSON.parse(readFileSync(file, 'utf8'));
  const admin = new Kafka({
    clientId: 'flash-sale-topics',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic: topic.name,
          numPartitions: topic.partitions,
          replicationFactor,
          configEntries: Object.entries(topic.config ?? {}).map(([name, value]) => ({ name, value: String(value) })),
        })),
      });
    }
    console.log(`kafka topics: ${missing.length} created, ${topics.length - missing.length} already there`);
  } finally {
    await admin.disconnect();
  }
}

(async () => {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      // A freshly started broker answers "coordinator loading" or refuses for a moment: wait, do not fail.
      if (Date.now() > deadline) {
        console.error(`cannot create Kafka topics on ${brokers.join(',')}: ${error.message}`);
        process.exit(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
})();
