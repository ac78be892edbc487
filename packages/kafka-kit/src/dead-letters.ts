import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '@flash-sale/logging';

/** The dead-letter topic of a topic: poison messages are set aside there, with why, for a person to look at. */
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/** Headers a dead letter carries besides the original message's own. */
export const DeadLetterHeaders = {
  reason: 'dlq-reason',
  error: 'dlq-error',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error ?? '')).slice(0, 1_000);

/**
 * Writes poison messages to `<topic>.dlq`: same key and value, the original headers, and where and why it
 * failed. The write waits for Kafka's acknowledgement (acks all); if it fails the handler throws and the batch is
 * retried, so a message is never dropped between its topic and the dead-letter topic.
 */
export class DeadLetters {
  constructor(
    private readonly producer: Producer | undefined,
    private readonly groupId: string,
    private readonly logger: Logger,
  ) {}

  async send(topic: string, partition: number, message: KafkaMessage, reason: string, error?: unknown): Promise<void> {
    const headers: IHeaders = {
      ...message.headers,
      [DeadLetterHeaders.reason]: reason,
      [DeadLetterHeaders.error]: describe(error),
      [DeadLetterHeaders.sourceTopic]: topic,
      [DeadLetterHeaders.sourcePartition]: String(partition),
      [DeadLetterHeaders.sourceOffset]: message.offset,
      [DeadLetterHeaders.consumerGroup]: this.groupId,
      [DeadLetterHeaders.failedAt]: new Date().toISOString(),
    };
    this.logger.error(
      { topic, partition, offset: message.offset, groupId: this.groupId, reason, err: error },
      'poison message dead-lettered',
    );
    await this.producer?.send({
      topic: deadLetterTopic(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
  }
}

/**
 * Decodes a message, or dead-letters it and returns undefined when it cannot be decoded or `validate` names
 * what is wrong with it. Empty values (tombstones) are invalid too: no topic of ours carries them.
 */
export async function decodeOrDeadLetter<T>(
  message: KafkaMessage,
  decode: (bytes: Buffer) => T,
  context: { deadLetter(message: KafkaMessage, reason: string, error?: unknown): Promise<void> },
  validate: (event: T) => string | undefined = () => undefined,
): Promise<T | undefined> {
  if (!message.value || message.value.length === 0) {
    await context.deadLetter(message, 'EMPTY_MESSAGE');
    return undefined;
  }
  let event: T;
  try {
    event = decode(message.value);
  } catch (error) {
    await context.deadLetter(message, 'UNDECODABLE', error);
    return undefined;
  }
  const problem = validate(event);
  if (problem) {
    await context.deadLetter(message, 'INVALID', problem);
    return undefined;
  }
  return event;
}

/** `decodeOrDeadLetter` over a whole batch: the good events, in order, each with its message. */
export async function decodeBatch<T>(
  messages: KafkaMessage[],
  decode: (bytes: Buffer) => T,
  context: { deadLetter(message: KafkaMessage, reason: string, error?: unknown): Promise<void> },
  validate?: (event: T) => string | undefined,
): Promise<{ message: KafkaMessage; event: T }[]> {
  const decoded: { message: KafkaMessage; event: T }[] = [];
  for (const message of messages) {
    const event = await decodeOrDeadLetter(message, decode, context, validate);
    if (event !== undefined) decoded.push({ message, event });
  }
  return decoded;
}
