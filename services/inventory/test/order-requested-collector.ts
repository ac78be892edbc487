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
  private total = 0;

  async start(): Promise<void> {
    const kafka = new Kafka({
      clientId: `inventory-test-${uniqueSuffix()}`,
      brokers: infra.kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    });
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
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const event = inventoryEventsV1.OrderRequested.decode(message.value);
        this.total += 1;
        const list = this.byPromotion.get(event.promotionId) ?? [];
        list.push({ key: message.key?.toString(), event });
        this.byPromotion.set(event.promotionId, list);
      },
    });
    for (const { partition, high } of ends)
      this.consumer.seek({ topic: testTopics.OrderRequested, partition, offset: high });
    // Joining the group is not the relay's time: wait for it here.
    await joined;
  }

  received(promotionId: string): Received[] {
    return this.byPromotion.get(promotionId) ?? [];
  }

  /** Waits until at least `count` events of the promotion arrived, then a little longer to catch duplicates. */
  async waitForCount(promotionId: string, count: number, settleMs = 1_500): Promise<Received[]> {
    await waitFor(async () => this.received(promotionId).length >= count, {
      timeoutMs: 30_000,
      what: `${count} OrderRequested events of promotion ${promotionId} (${this.received(promotionId).length} so far, ${this.total} in all)`,
    });
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return this.received(promotionId);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
