import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '@flash-sale/logging';
import { DeadLetters } from './dead-letters';
import { OffsetCommits } from './offset-commits';
import { Backoff } from './backoff';
import { BatchSpans } from './message-tracing';
import { whileStarting } from './while-starting';

export interface BatchContext {
  topic: string;
  partition: number;
  heartbeat(): Promise<void>;
  /**
   * Sets a message aside on `<topic>.dlq` with the reason in its headers (a poison message: undecodable or
   * invalid). Resolves once Kafka acknowledged it, so the handler may then treat the message as handled.
   */
  deadLetter(message: KafkaMessage, reason: string, error?: unknown): Promise<void>;
  /**
   * Runs `fn` in the trace `message` carries (inside its `process` span), so that the work done for that message
   * (its SQL, its gRPC calls, its log lines and the outbox rows it writes) joins the trace that produced it. The
   * handler as a whole runs in the message's span when the batch holds one message, else in a span of the batch's
   * own that links to each of them (see BatchSpans).
   */
  within<T>(message: KafkaMessage, fn: () => T): T;
}

/**
 * The handler stopped at a message that is not due yet: the messages before `fromOffset` are done, the partition
 * pauses until `until` and then starts again at `fromOffset` (how a deadline topic waits without delayed delivery).
 */
export interface Deferral {
  fromOffset: string;
  until: Date;
}

/**
 * Handles every message of a batch; when it resolves, their offsets are committed with the next commit (up to a
 * deferral, when it returns one). A throw is taken as transient: the partition pauses with exponential backoff
 * and the same messages come again. Poison messages must go to `deadLetter` instead of throwing, or they would
 * block.
 */
export type BatchHandler = (messages: KafkaMessage[], context: BatchContext) => Promise<Deferral | void>;

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  logger: Logger;
  /** Where `deadLetter` writes; without one, a dead letter is only logged. */
  deadLetterProducer?: Producer;
  fromBeginning?: boolean;
  /**
   * Where a group with no committed offsets starts: `earliest` (the default: a new group sees every event) or
   * `end` (the offsets are set to the topics' ends before the first member joins; tests use it so a new group
   * does not replay the history of every earlier run).
   */
  newGroupStartsAt?: 'earliest' | 'end';
  sessionTimeoutMs?: number;
  /** How many partitions' batches are handled at once (kafkajs `partitionsConsumedConcurrently`); default 1. */
  concurrency?: number;
  /** Backoff after a failed batch: first pause and cap, in ms. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Handled offsets are committed together at most this often (see OffsetCommits); default 500 ms. */
  commitIntervalMs?: number;
}

/**
 * Commits the topics' end offsets for a group that has none yet; a group that has offsets is left alone. Works
 * like kafkajs' `admin.setOffsets` (a short-lived member of the group seeks, which commits), but for all topics
 * in one join and without its fixed five-second fetch wait.
 */
async function startNewGroupAtEnd(kafka: Kafka, groupId: string, topics: string[], logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, { partition: number; high: string }[]>();
  try {
    for (const topic of topics) {
      const [committed] = await whileStarting(
        'fetch the group offsets',
        () => admin.fetchOffsets({ groupId, topics: [topic] }),
        logger,
      );
      if (committed?.partitions.some((p) => p.offset !== '-1')) continue;
      ends.set(topic, await whileStarting('fetch the topic offsets', () => admin.fetchTopicOffsets(topic), logger));
    }
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return;
  const setter = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  try {
    await setter.connect();
    await setter.subscribe({ topics: [...ends.keys()], fromBeginning: true });
    let fetches = 0;
    const fetched = new Promise<void>((resolve) =>
      setter.on(setter.events.FETCH, () => {
        if (++fetches === 2) resolve();
      }),
    );
    await setter.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined });
    setter.pause([...ends.keys()].map((topic) => ({ topic })));
    for (const [topic, partitions] of ends) {
      for (const { partition, high } of partitions) setter.seek({ topic, partition, offset: high });
    }
    // Seeks are applied (and committed) at the start of a fetch: the second one began after them.
    await fetched;
  } catch (error) {
    // Another member joined first: it already decided where the group starts.
    logger.debug({ err: error, groupId }, 'new consumer group left where it is');
  } finally {
    await setter.disconnect();
  }
}

/** The offset just before `offset` (what to resolve so that consumption restarts at `offset`). */
const before = (offset: string) => (BigInt(offset) - 1n).toString();

/**
 * A consumer-group member that commits offsets only after its handler resolved, every `commitIntervalMs` for all
 * its partitions at once (see OffsetCommits), so processing is at-least-once and the handlers make it effectively
 * once by deduping on event ids. A failing batch pauses its partition with backoff (other partitions go on); a
 * deferral pauses it until the message is due. kafkajs restarts the consumer after a crash it considers
 * retriable; for the rest we restart it ourselves after a pause, so a consumer never just hangs.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { kafka, groupId, topics, handler, logger } = options;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    // A fetch returns once 32 KB are there or after 200 ms: under load a batch is hundreds of messages (one
    // fetch, one handler call, one commit), when quiet an event waits at most 200 ms.
    minBytes: 32 * 1024,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
    retry: { retries: 8, initialRetryTime: 300, restartOnFailure: async () => true },
  });
  if (options.newGroupStartsAt === 'end') await startNewGroupAtEnd(kafka, groupId, topics, logger);
  const deadLetters = new DeadLetters(options.deadLetterProducer, groupId, logger);
  const backoff = new Backoff(options.retry?.initialMs ?? 200, options.retry?.maxMs ?? 10_000);
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const commitIntervalMs = options.commitIntervalMs ?? 500;
  const commits = new OffsetCommits((offsets) => consumer.commitOffsets(offsets), commitIntervalMs);
  const flushCommits = () =>
    commits.flush().catch((error: unknown) => {
      // Kept for the next flush; if the partition moved to another member meanwhile, it reads those messages again.
      logger.warn({ err: error, groupId }, 'offset commit failed; retrying with the next one');
    });
  // A quiet consumer still commits what it handled last (the reservation ledger's progress is read from it).
  const committer = setInterval(() => void flushCommits(), commitIntervalMs);
  committer.unref();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => commits.assigned(payload.memberAssignment));

  /** Pauses this batch's partition and resumes it after `ms` (kafkajs then fetches from the resolved offset). */
  const pauseFor = (pause: EachBatchPayload['pause'], ms: number) => {
    const resume = pause();
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        resume();
      },
      Math.max(0, ms),
    );
    timers.add(timer);
  };

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, groupId, restart: payload.restart }, 'kafka consumer crashed');
    if (payload.restart || stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped)
        void run().catch((error: unknown) => logger.error({ err: error, groupId }, 'consumer restart failed'));
    }, 1_000);
    timers.add(timer);
  });

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, pause } = payload;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const where = `${batch.topic}/${batch.partition}`;
    const spans = new BatchSpans(batch.topic, batch.partition, groupId, batch.messages);
    let deferral: Deferral | void;
    try {
      deferral = await spans.run(() =>
        handler(batch.messages, {
          topic: batch.topic,
          partition: batch.partition,
          heartbeat,
          deadLetter: (message, reason, error) =>
            deadLetters.send(batch.topic, batch.partition, message, reason, error),
          within: spans.within,
        }),
      );
      spans.end();
    } catch (error) {
      spans.end(error);
      const delay = backoff.failed(where);
      logger.warn(
        { err: error, groupId, topic: batch.topic, partition: batch.partition, retryInMs: delay },
        'batch failed; retrying it after a pause',
      );
      pauseFor(pause, delay);
      return;
    }
    backoff.succeeded(where);
    const first = batch.messages[0]!;
    const last = batch.messages[batch.messages.length - 1]!;
    const done = deferral ? deferral.fromOffset : (BigInt(last.offset) + 1n).toString();
    if (BigInt(done) > BigInt(first.offset)) {
      resolveOffset(before(done));
      commits.handled(batch.topic, batch.partition, done);
    }
    // Stopping: commit now, while still a member of the group (kafkajs leaves it once this batch returns).
    if (!isRunning() || commits.due()) await flushCommits();
    try {
      await heartbeat();
    } catch (error) {
      // Most often a rebalance began: commit before the partitions are handed out, so the next owner does not
      // redo them (kafkajs' own auto-commit does the same).
      await flushCommits();
      throw error;
    }
    if (deferral) pauseFor(pause, deferral.until.getTime() - Date.now());
  };

  async function run() {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      // Commits are ours (OffsetCommits): kafkajs would send one per partition batch.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrency ?? 1,
      eachBatch,
    });
  }
  await run();
  const disconnect = consumer.disconnect.bind(consumer);
  consumer.disconnect = async () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    clearInterval(committer);
    await flushCommits();
    await disconnect();
  };
  return consumer;
}
