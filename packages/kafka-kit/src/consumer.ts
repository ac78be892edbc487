import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@flash-sale/logging';

export interface BatchContext {
  topic: string;
  partition: number;
  heartbeat(): Promise<void>;
}

/** Handles every message of a batch; when it resolves, their offsets are committed. A throw retries the batch. */
export type BatchHandler = (messages: KafkaMessage[], context: BatchContext) => Promise<void>;

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  logger: Logger;
  fromBeginning?: boolean;
  /**
   * Where a group with no committed offsets starts: `earliest` (the default: a new group sees every event) or
   * `end` (the offsets are set to the topics' ends before the first member joins; tests use it so a new group
   * does not replay the history of every earlier run).
   */
  newGroupStartsAt?: 'earliest' | 'end';
  sessionTimeoutMs?: number;
}

/** Commits the topics' end offsets for a group that has none yet; a group that has offsets is left alone. */
async function startNewGroupAtEnd(kafka: Kafka, groupId: string, topics: string[], logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      if (committed?.partitions.some((p) => p.offset !== '-1')) continue;
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
      });
    }
  } catch (error) {
    // Another member joined first (a group with members cannot be moved): it already decided where to start.
    logger.debug({ err: error, groupId }, 'new consumer group left where it is');
  } finally {
    await admin.disconnect();
  }
}

/**
 * A consumer-group member that commits offsets only after its handler resolved, so processing is
 * at-least-once and the handlers make it effectively once by deduping on event ids. kafkajs restarts the
 * consumer after a crash it considers retriable; for the rest we restart it ourselves after a pause, so a
 * consumer never just hangs.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { kafka, groupId, topics, handler, logger } = options;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    allowAutoTopicCreation: false,
    retry: { retries: 8, initialRetryTime: 300, restartOnFailure: async () => true },
  });
  if (options.newGroupStartsAt === 'end') await startNewGroupAtEnd(kafka, groupId, topics, logger);
  let stopped = false;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, groupId, restart: payload.restart }, 'kafka consumer crashed');
    if (payload.restart || stopped) return;
    setTimeout(() => {
      if (!stopped)
        void run().catch((error: unknown) => logger.error({ err: error, groupId }, 'consumer restart failed'));
    }, 1_000).unref();
  });

  const eachBatch = async ({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload) => {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    await handler(batch.messages, { topic: batch.topic, partition: batch.partition, heartbeat });
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
  };

  async function run() {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    await consumer.run({ autoCommit: true, eachBatchAutoResolve: false, eachBatch });
  }
  await run();
  const disconnect = consumer.disconnect.bind(consumer);
  consumer.disconnect = async () => {
    stopped = true;
    await disconnect();
  };
  return consumer;
}
