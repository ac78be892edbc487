/**
 * Helpers for integration and end-to-end tests, which run against the real Redis, Kafka and PostgreSQL that
 * `scripts/infra.sh up` starts (ports overridable with the same variables).
 */

import { topicNames } from '@flash-sale/kafka-kit';

const host = '127.0.0.1';

/**
 * Tests have a database and Kafka topics of their own (`scripts/infra.sh up` creates both), so a mesh that
 * `npm start` runs on the same servers never reads their events or relays their outbox rows, nor they its.
 */
const TEST_DATABASE = 'flashsale_test';
const TEST_TOPIC_PREFIX = 'test.';

/** The topics the services under test use: `Topics` behind the tests' prefix. */
export const testTopics = topicNames(TEST_TOPIC_PREFIX);

export const infra = {
  redisUrl: process.env.REDIS_URL ?? `redis://${host}:${process.env.REDIS_PORT ?? 6379}`,
  kafkaBrokers: process.env.KAFKA_BROKERS ?? `${host}:${process.env.KAFKA_PORT ?? 9092}`,
  /** The service role's URL: role, password and schema share the name (see scripts/infra.sh). */
  databaseUrl: (role: 'promotion' | 'inventory' | 'orders' | 'payment') =>
    `postgresql://${role}:${role}@${host}:${process.env.PG_PORT ?? 5432}/${TEST_DATABASE}?schema=${role}`,
  adminDatabaseUrl:
    process.env.PG_ADMIN_URL ?? `postgresql://postgres@${host}:${process.env.PG_PORT ?? 5432}/${TEST_DATABASE}`,
};

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited when the wait times out. */
  what?: string;
}

/** Polls `probe` until it returns something other than undefined or false, or throws after the timeout. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A short random string for names that must not clash between test runs. */
export const uniqueSuffix = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** One consumer-group prefix per test process, so tests never share partitions with a running mesh. */
export const testGroupPrefix = `test-${uniqueSuffix()}.`;

/** Environment for a service under test: the local infrastructure, port 0, quiet logs. */
export function serviceEnv(role: 'promotion' | 'inventory' | 'orders' | 'payment', extra: Record<string, string> = {}) {
  return {
    GRPC_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_URL: infra.redisUrl,
    KAFKA_BROKERS: infra.kafkaBrokers,
    DATABASE_URL: infra.databaseUrl(role),
    POD_NAME: `test-${role}-${uniqueSuffix()}`,
    SHUTDOWN_GRACE_MS: '2000',
    KAFKA_GROUP_PREFIX: testGroupPrefix,
    KAFKA_TOPIC_PREFIX: TEST_TOPIC_PREFIX,
    // The run's groups are new: start them at the topics' ends, not at the history of every earlier run.
    KAFKA_NEW_GROUP_START: 'end',
    ...extra,
  };
}
export * from './service-process';
export * from './mesh-clients';
export * from './prometheus';
