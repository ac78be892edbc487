import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { inventoryEventsV1 } from '@flash-sale/contracts';
import { infra, testGroupPrefix, uniqueSuffix, waitFor, testTopics } from '@flash-sale/testing';

export interface Received {
  key: string | undefined;
  event: inventoryEventsV1.OrderRequested;
}

/**
 * Reads `order.requested` from its end at start-up in a consumer group of its own and keeps the events of the
 * promotions a test asks about, so a test can check what reached Kafka and how often.
 */
export class OrderRequestedCollector {
  private readonly byPromotion = new Map<string, Received[]>();
  private consumer: Consumer | undefined;
  private kafka: Kafka | undefined;
  private total = 0;
  /** The next offset to read, per partition: what this collector has seen of the topic. */
  private readonly next = new Map<number, bigint>();

  async start(): Promise<void> {
    const kafka = (this.kafka = new Kafka({
      clientId: `inventory-test-${uniqueSuffix()}`,
      brokers: infra.kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    }));
    this.consumer = kafka.consumer({ groupId: `${testGroupPrefix}inventory-test.${uniqueSuffix()}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: testTopics.OrderRequested, fromBeginning: true });
    // Start at the topic's current end, not its beginning: the backlog of earlier runs is not this test's.
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(testTopics.OrderRequested);
    await admin.disconnect();
    const joined = new Promise<void>((resolve) => this.consumer?.on(this.consumer.events.GROUP_JOIN, () => resolve()));
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        this.next.set(partition, BigInt(message.offset) + 1n);
        if (!message.value) return;
        const event = inventoryEventsV1.OrderRequested.decode(message.value);
        this.total += 1;
        const list = this.byPromotion.get(event.promotionId) ?? [];
        list.push({ key: message.key?.toString(), event });
        this.byPromotion.set(event.promotionId, list);
      },
    });
    for (const { partition, high } of ends) {
      this.next.set(partition, BigInt(high));
      this.consumer.seek({ topic: testTopics.OrderRequested, partition, offset: high });
    }
    // Joining the group is not the relay's time: wait for it here.
    await joined;
  }

  received(promotionId: string): Received[] {
    return this.byPromotion.get(promotionId) ?? [];
  }

  /**
   * Waits until at least `count` events of the promotion arrived, then until this collector has read everything the
   * topic held at that moment, so a duplicate already sent is counted too.
   */
  async waitForCount(promotionId: string, count: number): Promise<Received[]> {
    await waitFor(async () => this.received(promotionId).length >= count, {
      timeoutMs: 30_000,
      what: `${count} OrderRequested events of promotion ${promotionId} (${this.received(promotionId).length} so far, ${this.total} in all)`,
    });
    const admin = this.kafka!.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(testTopics.OrderRequested).finally(() => admin.disconnect());
    await waitFor(async () => ends.every(({ partition, high }) => BigInt(high) <= (this.next.get(partition) ?? 0n)), {
      timeoutMs: 30_000,
      what: `the collector to read ${testTopics.OrderRequested} to its end`,
    });
    return this.received(promotionId);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
