#!/usr/bin/env node
/**
 * Creates the mesh's Kafka topics that do not exist yet; never changes or deletes existing ones.
 *
 *   node scripts/create-topics.js [--topics FILE]
 *
 * FILE defaults to infra/topics.json beside this script's folder: `[{ "name", "partitions", "config" }]`.
 * Environment:
 *   KAFKA_BROKERS              comma-separated host:port list (default 127.0.0.1:9092)
 *   KAFKA_REPLICATION_FACTOR   replication factor of new topics (default 1)
 *   KAFKA_MIN_INSYNC_REPLICAS  optional min.insync.replicas of new topics (else the broker's default)
 *   KAFKA_TOPICS_TIMEOUT_MS    how long to keep retrying while the cluster is starting (default 120000)
 *   KAFKA_PARTITIONS_MAX       optional cap on every new topic's partitions (the local infrastructure sets 4)
 *   KAFKA_TOPIC_PREFIX         optional prefix of every topic name, as the services' variable of the same name
 *
 * Runs locally from scripts/infra.sh and as a Kubernetes Job, so it waits (and says why) while the brokers are
 * unreachable, still loading, or fewer than the replication factor; bad input fails at once. Exit 0 when every
 * topic exists, 1 when it gives up, 2 on a usage error.
 */
'use strict';

const { readFileSync } = require('node:fs');
const path = require('node:path');
const { Kafka, logLevel } = require('kafkajs');

// kafkajs 2.2.4 schedules a timer with a negative delay when it is not throttled (tulios/kafkajs#1751); Node has
// always run it after 1 ms, and Node 24 also prints a TimeoutNegativeWarning for it. The services clamp the delay
// (packages/kafka-kit/src/kafkajs-timeouts.ts); this script, which runs before anything is built, only drops
// that one warning.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type !== 'TimeoutNegativeWarning') emitWarning(warning, ...rest);
};

const USAGE = 'usage: node scripts/create-topics.js [--topics FILE]';

function fail(message, code = 1) {
  console.error(`create-topics: ${message}`);
  process.exit(code);
}

function parseArgs(argv) {
  let file = path.join(__dirname, '..', 'infra', 'topics.json');
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--topics') {
      file = argv[(i += 1)];
      if (!file) fail(`--topics needs a file\n${USAGE}`, 2);
    } else if (arg.startsWith('--topics=')) {
      file = arg.slice('--topics='.length);
    } else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else {
      fail(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`, 2);
    }
  }
  return { file: path.resolve(file) };
}

function positiveInteger(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer, got ${JSON.stringify(raw)}`, 2);
  return value;
}

/** Reads and checks the topic list, so a typo fails here rather than as a broker error. */
function loadTopics(file) {
  let topics;
  try {
    topics = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read the topic list ${file}: ${error.message}`, 2);
  }
  if (!Array.isArray(topics) || topics.length === 0) fail(`${file} must hold a non-empty JSON array`, 2);
  const names = new Set();
  for (const [index, topic] of topics.entries()) {
    const where = `${file}[${index}]`;
    if (typeof topic !== 'object' || topic === null) fail(`${where} is not an object`, 2);
    if (typeof topic.name !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(topic.name)) {
      fail(`${where}.name must be a Kafka topic name, got ${JSON.stringify(topic.name)}`, 2);
    }
    if (names.has(topic.name)) fail(`${where}: topic ${topic.name} is listed twice`, 2);
    names.add(topic.name);
    if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
      fail(`${where}.partitions must be a positive integer, got ${JSON.stringify(topic.partitions)}`, 2);
    }
    const config = topic.config ?? {};
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      fail(`${where}.config must be an object`, 2);
    for (const [key, value] of Object.entries(config)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) fail(`${where}.config.${key} must be a string`, 2);
    }
  }
  return topics;
}

/** KAFKA_TOPIC_PREFIX, checked as the services check it, and short enough for every listed name. */
function topicPrefix(topics) {
  const prefix = process.env.KAFKA_TOPIC_PREFIX ?? '';
  if (!/^[A-Za-z0-9._-]{0,100}$/.test(prefix)) {
    fail(
      `KAFKA_TOPIC_PREFIX must be at most 100 letters, digits, dots, dashes and underscores, got ${JSON.stringify(prefix)}`,
      2,
    );
  }
  const longest = Math.max(...topics.map((topic) => topic.name.length));
  if (prefix.length + longest > 249)
    fail(`KAFKA_TOPIC_PREFIX makes a topic name longer than Kafka's 249 characters`, 2);
  return prefix;
}

/** Broker answers that no retry can fix: stop at once instead of waiting for the timeout. */
const FATAL = new Set([
  'INVALID_CONFIG',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_PARTITIONS',
  'INVALID_REQUEST',
  'POLICY_VIOLATION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
]);

/** Every protocol error type inside an error (kafkajs nests them in aggregate and retry errors). */
function errorTypes(error, seen = new Set()) {
  if (!error || typeof error !== 'object' || seen.has(error)) return [];
  seen.add(error);
  const nested = [...(Array.isArray(error.errors) ? error.errors : []), error.originalError, error.cause];
  return [...(error.type ? [error.type] : []), ...nested.flatMap((inner) => errorTypes(inner, seen))];
}

function describe(error) {
  const inner =
    Array.isArray(error.errors) && error.errors.length > 0 ? error.errors : [error.originalError ?? error.cause];
  const details = inner
    .filter(Boolean)
    .map((e) => e.message)
    .filter((message) => message && message !== error.message);
  return [error.message, ...new Set(details)].join(': ');
}

async function ensureTopics({ brokers, topics, replicationFactor, minInsyncReplicas }) {
  const kafka = new Kafka({
    clientId: 'flash-sale-create-topics',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { retries: 2, initialRetryTime: 300 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster(); // a metadata request: the brokers really serve
    if (cluster.brokers.length < replicationFactor) {
      const error = new Error(
        `${cluster.brokers.length} broker(s) registered, replication factor ${replicationFactor} needs more`,
      );
      error.type = 'NOT_ENOUGH_BROKERS';
      throw error;
    }
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30000,
        topics: missing.map((topic) => {
          const config = Object.fromEntries(Object.entries(topic.config ?? {}).map(([k, v]) => [k, String(v)]));
          if (minInsyncReplicas !== undefined && config['min.insync.replicas'] === undefined) {
            config['min.insync.replicas'] = String(minInsyncReplicas);
          }
          return {
            topic: topic.name,
            numPartitions: topic.partitions,
            replicationFactor,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          };
        }),
      });
    }
    // Another creator may have raced us (createTopics then resolves false); check what is there now.
    const present = new Set(await admin.listTopics());
    const absent = topics.filter((topic) => !present.has(topic.name)).map((topic) => topic.name);
    if (absent.length > 0) throw new Error(`topics still missing after creation: ${absent.join(', ')}`);
    const metadata = await admin.fetchTopicMetadata({ topics: topics.map((topic) => topic.name) });
    const partitions = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    const mismatched = topics
      .filter((topic) => partitions.get(topic.name) !== topic.partitions)
      .map((topic) => `${topic.name} has ${partitions.get(topic.name)} partitions, the list says ${topic.partitions}`);
    return { cluster, created: missing.map((topic) => topic.name), mismatched };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function main() {
  const { file } = parseArgs(process.argv.slice(2));
  const listed = loadTopics(file);
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  const replicationFactor = positiveInteger('KAFKA_REPLICATION_FACTOR', 1);
  const minInsyncReplicas = positiveInteger('KAFKA_MIN_INSYNC_REPLICAS', undefined);
  if (minInsyncReplicas !== undefined && minInsyncReplicas > replicationFactor) {
    fail(`KAFKA_MIN_INSYNC_REPLICAS (${minInsyncReplicas}) exceeds KAFKA_REPLICATION_FACTOR (${replicationFactor})`, 2);
  }
  const timeoutMs = positiveInteger('KAFKA_TOPICS_TIMEOUT_MS', 120000);
  const partitionsMax = positiveInteger('KAFKA_PARTITIONS_MAX', Infinity);
  const prefix = topicPrefix(listed);
  const topics = listed.map((topic) => ({
    ...topic,
    name: `${prefix}${topic.name}`,
    partitions: Math.min(topic.partitions, partitionsMax),
  }));
  const deadline = Date.now() + timeoutMs;
  let lastReason = '';
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { cluster, created, mismatched } = await ensureTopics({
        brokers,
        topics,
        replicationFactor,
        minInsyncReplicas,
      });
      for (const warning of mismatched) console.warn(`create-topics: warning: ${warning} (left as it is)`);
      console.log(
        `kafka topics on ${brokers.join(',')} (cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)): ` +
          `${created.length} created${created.length > 0 ? ` (${created.join(', ')})` : ''}, ` +
          `${topics.length - created.length} already there`,
      );
      return;
    } catch (error) {
      const reason = describe(error);
      const fatal = errorTypes(error).find((type) => FATAL.has(type));
      if (fatal) fail(`the broker refused the topics (${fatal}): ${reason}`);
      if (Date.now() + 1000 > deadline) {
        fail(`gave up after ${attempt} attempt(s) in ${timeoutMs} ms on ${brokers.join(',')}: ${reason}`);
      }
      if (reason !== lastReason) console.error(`create-topics: waiting for Kafka on ${brokers.join(',')}: ${reason}`);
      lastReason = reason;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => fail(error.stack ?? String(error)),
);
