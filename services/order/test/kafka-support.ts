import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type KafkaMessage, type Producer } from 'kafkajs';
import { infra, uniqueSuffix, waitFor } from '@flash-sale/testing';

const kafka = new Kafka({
  clientId: `test-${uniqueSuffix()}`,
  brokers: infra.kafkaBrokers.split(','),
  logLevel: logLevel.NOTHING,
});

export type Offsets = Map<number, string>;

/** Runs `use` with a connected admin client, disconnected afterwards. */
async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The end offset of every partition of `topic` (where the next message will go). */
export async function endOffsets(topic: string): Promise<Offsets> {
  const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
  return new Map(ends.map(({ partition, high }) => [partition, high]));
}

/** A consumer group's committed offset of every partition of `topic` (-1 where it has none). */
export async function committedOffsets(groupId: string, topic: string): Promise<Offsets> {
  const [committed] = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, offset]));
}

/** Moves a group without members back (or forward) to `offsets` on `topic`, as `kafka-consumer-groups --reset-offsets` does. */
export async function resetGroup(groupId: string, topic: string, offsets: Offsets): Promise<void> {
  await withAdmin((admin) =>
    admin.setOffsets({
      groupId,
      topic,
      partitions: [...offsets].map(([partition, offset]) => ({ partition, offset })),
    }),
  );
}

const partitionOf = Partitioners.DefaultPartitioner();

/** The partition the services' producers pick for `key` on a topic of `partitions` partitions. */
export function partitionFor(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitionOf({ topic: 'any', partitionMetadata, message: { key, value: null } });
}

/** How many partitions `topic` has on the broker (the local infrastructure caps them; the chart does not). */
export async function partitionCount(topic: string): Promise<number> {
  const { topics } = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }));
  return topics[0]!.partitions.length;
}

/** A fresh id from `newId` whose messages land on the same partition of `topic` as `key`'s. */
export async function idOnPartitionOf(topic: string, key: string, newId: () => string): Promise<string> {
  const partitions = await partitionCount(topic);
  for (;;) {
    const id = newId();
    if (partitionFor(id, partitions) === partitionFor(key, partitions)) return id;
  }
}

export interface Sent {
  partition: number;
  offset: string;
}

/** A plain producer for tests: puts messages on a topic the way another service would. */
export class TestProducer {
  private constructor(private readonly producer: Producer) {}

  static async connect(): Promise<TestProducer> {
    // The partitioner the services use, so a key lands where theirs would.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new TestProducer(producer);
  }

  /** Sends one message; `partition` pins it (to order it after another message on that partition). */
  async send(topic: string, key: string, value: Uint8Array, partition?: number): Promise<Sent> {
    const [meta] = await this.producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: Buffer.from(value), ...(partition !== undefined ? { partition } : {}) }],
    });
    if (!meta) throw new Error(`no record metadata for ${topic}`);
    return { partition: meta.partition, offset: meta.baseOffset ?? '' };
  }

  disconnect = () => this.producer.disconnect();
}

/**
 * Records every decodable message of a topic from its beginning, under a group of its own. Tests use fresh ids,
 * so old messages never match what they look for.
 */
export class TopicRecorder<T> {
  readonly events: T[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static start<T>(topic: string, decode: (bytes: Buffer) => T): Promise<TopicRecorder<T>> {
    return TopicRecorder.of(topic, (message) => (message.value ? decode(message.value) : undefined));
  }

  /** Records whole messages (key, value, headers): for dead-letter topics. */
  static messages(topic: string): Promise<TopicRecorder<KafkaMessage>> {
    return TopicRecorder.of(topic, (message) => message);
  }

  private static async of<T>(topic: string, read: (message: KafkaMessage) => T | undefined) {
    const consumer = kafka.consumer({ groupId: `test-recorder-${uniqueSuffix()}` });
    const recorder = new TopicRecorder<T>(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          const event = read(message);
          if (event !== undefined) recorder.events.push(event);
        } catch {
          // Not ours to judge: tests put undecodable messages on purpose.
        }
      },
    });
    return recorder;
  }

  where(predicate: (event: T) => boolean): T[] {
    return this.events.filter(predicate);
  }

  /** The first recorded event that matches, waiting for it to arrive. */
  next(predicate: (event: T) => boolean, what: string): Promise<T> {
    return waitFor(async () => this.events.find(predicate), { what, timeoutMs: 30_000 });
  }

  stop = () => this.consumer.disconnect();
}
