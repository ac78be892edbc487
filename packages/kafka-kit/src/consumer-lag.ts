import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@flash-sale/logging';
import type { MeshConsumerGroup } from './consumer-groups';
import { scrapeCache } from './scrape-cache';

export interface PartitionLag {
  consumergroup: string;
  topic: string;
  partition: string;
  /** Messages written to the partition that the group has not committed yet. */
  lag: number;
}

/** The offsets a lag needs from the broker (kafkajs's Admin has them). */
export type OffsetsAdmin = Pick<Admin, 'fetchOffsets' | 'fetchTopicOffsets'>;

/**
 * Reads the lag of `groups` from the broker: each topic's end offsets and each group's committed ones. From the
 * broker rather than from the consumers, so a group whose consumers are down still shows its lag growing. A
 * partition the group never committed on has no lag reported (its start depends on the group's reset policy).
 */
export async function readConsumerLag(
  admin: OffsetsAdmin,
  groups: readonly MeshConsumerGroup[],
): Promise<PartitionLag[]> {
  const topics = [...new Set(groups.flatMap((group) => group.topics))];
  const ends = new Map(
    await Promise.all(
      topics.map(
        async (topic) =>
          [topic, new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]))] as const,
      ),
    ),
  );
  const committed = await Promise.all(
    groups.map(async (group) => ({
      group,
      offsets: await admin.fetchOffsets({ groupId: group.groupId, topics: group.topics }),
    })),
  );
  const lags: PartitionLag[] = [];
  for (const { group, offsets } of committed) {
    for (const { topic, partitions } of offsets) {
      for (const { partition, offset } of partitions) {
        const end = ends.get(topic)?.get(partition);
        if (end === undefined || Number(offset) < 0) continue;
        lags.push({
          consumergroup: group.groupId,
          topic,
          partition: String(partition),
          lag: Math.max(0, end - Number(offset)),
        });
      }
    }
  }
  return lags;
}

export interface ConsumerLagOptions {
  /** A scrape waits at most this long for the broker; default 2 s. */
  timeoutMs?: number;
  /** Scrapes within this long of the last read share it; default 1 s. */
  maxAgeMs?: number;
}

/**
 * `kafka_consumergroup_lag{consumergroup,topic,partition}` in `registry`, read from the broker when scraped (see
 * `readConsumerLag`). While the broker does not answer, the series are absent rather than stale.
 */
export function registerConsumerLag(
  registry: Registry,
  admin: OffsetsAdmin,
  groups: readonly MeshConsumerGroup[],
  logger: Logger,
  options: ConsumerLagOptions = {},
): void {
  const read = scrapeCache(() => readConsumerLag(admin, groups), {
    maxAgeMs: options.maxAgeMs ?? 1_000,
    timeoutMs: options.timeoutMs ?? 2_000,
  });
  new Gauge({
    name: 'kafka_consumergroup_lag',
    help: 'Messages in a partition that a consumer group of the mesh has not committed yet, read from the broker',
    labelNames: ['consumergroup', 'topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const { lag, ...labels } of await read()) this.set(labels, lag);
      } catch (error) {
        logger.debug({ err: error }, 'consumer group lag not read');
      }
    },
  });
}
