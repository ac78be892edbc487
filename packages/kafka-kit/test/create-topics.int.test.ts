/**
 * scripts/create-topics.js against the real broker: topics are created as listed, and KAFKA_PARTITIONS_MAX caps
 * their partitions (the local infrastructure sets it to 4; the Helm topic Job when `jobs.topics.maxPartitions` is
 * set); KAFKA_TOPIC_PREFIX puts every name behind a prefix; a bad cap or prefix is refused before anything is
 * created.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { infra, uniqueSuffix } from '@flash-sale/testing';

const script = path.resolve(__dirname, '../../../scripts/create-topics.js');
const admin = new Kafka({ brokers: infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
const dir = mkdtempSync(path.join(tmpdir(), 'create-topics-'));
const created: string[] = [];

beforeAll(() => admin.connect());

afterAll(async () => {
  const present = new Set(await admin.listTopics());
  await admin.deleteTopics({ topics: created.filter((name) => present.has(name)) }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the script on a list of fresh topics with the given partitions; returns its outcome and the names. */
function createTopics(partitions: number[], env: Record<string, string> = {}) {
  const topics = partitions.map((count) => ({ name: `test.topics.${uniqueSuffix()}`, partitions: count }));
  const file = path.join(dir, `${uniqueSuffix()}.json`);
  writeFileSync(file, JSON.stringify(topics));
  const names = topics.map((topic) => `${env.KAFKA_TOPIC_PREFIX ?? ''}${topic.name}`);
  created.push(...names);
  const run = spawnSync(process.execPath, [script, '--topics', file], {
    encoding: 'utf8',
    env: { ...process.env, KAFKA_BROKERS: infra.kafkaBrokers, KAFKA_TOPIC_PREFIX: '', ...env },
  });
  return { run, names, listed: topics.map((topic) => topic.name) };
}

async function partitionsOf(names: string[]): Promise<number[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  return names.map((name) => topics.find((topic) => topic.name === name)!.partitions.length);
}

describe('scripts/create-topics.js', () => {
  it('when no cap is set, then each topic gets the partitions the list gives', async () => {
    const { run, names } = createTopics([6, 2]);
    expect(run.status).toBe(0);
    expect(await partitionsOf(names)).toEqual([6, 2]);
  });

  it('when KAFKA_PARTITIONS_MAX is set, then no new topic gets more partitions than it', async () => {
    const { run, names } = createTopics([6, 2], { KAFKA_PARTITIONS_MAX: '3' });
    // Nothing on stderr: no partition-count warning, and not kafkajs's TimeoutNegativeWarning on Node 24 either.
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await partitionsOf(names)).toEqual([3, 2]);
  });

  it('when KAFKA_PARTITIONS_MAX is not a positive integer, then it exits 2 naming it and creates nothing', async () => {
    const { run, names } = createTopics([6], { KAFKA_PARTITIONS_MAX: '0' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/KAFKA_PARTITIONS_MAX must be a positive integer, got "0"/);
    expect(await admin.listTopics()).not.toContain(names[0]);
  });

  it('when KAFKA_TOPIC_PREFIX is set, then every topic is created behind it and none under its listed name', async () => {
    const { run, names, listed } = createTopics([2], { KAFKA_TOPIC_PREFIX: `p${uniqueSuffix()}.` });
    expect(run.status).toBe(0);
    expect(await partitionsOf(names)).toEqual([2]);
    expect(await admin.listTopics()).not.toContain(listed[0]);
  });

  it('when KAFKA_TOPIC_PREFIX has a character Kafka refuses, then it exits 2 naming it and creates nothing', async () => {
    const { run, listed } = createTopics([1], { KAFKA_TOPIC_PREFIX: 'bad/prefix.' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/KAFKA_TOPIC_PREFIX must be .*, got "bad\/prefix\."/);
    expect(await admin.listTopics()).not.toContain(listed[0]);
  });
});
