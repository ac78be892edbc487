import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { inventoryEventsV1 } from '@flash-sale/contracts';
import { PumpLoop, Topics } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import { saleKeys } from '../../domain/sale-keys';

const GROUP = 'relay';

export interface OutboxRelayOptions {
  /** This process's name in the stream's consumer group. */
  consumer: string;
  batchSize?: number;
  /** Entries another relay read but did not acknowledge for this long are taken over (it probably died). */
  claimIdleMs?: number;
  idleSleepMs?: number;
  /** Pause after a pass that published, so the next one sends a batch (see PumpLoop); default 10 ms. */
  batchMs?: number;
  /**
   * Every stream is scanned (and stale entries claimed) this often; in between, only the streams this process
   * wrote to are read, so a relay does not pay for every open sale on every pass.
   */
  fullScanMs?: number;
  /** Lists promotions whose streams may hold entries. */
  listPromotions: () => Promise<string[]>;
  refreshMs?: number;
}

type StreamEntry = [id: string, fields: string[]];

/**
 * Publishes each promotion's outbox stream to Kafka (`order.requested`, keyed by order id) and acknowledges
 * entries only after Kafka acknowledged them. A relay that dies between the two leaves its entries pending;
 * they are claimed and sent again, and the order service dedupes by event id, so nothing is lost or doubled.
 */
export class OutboxRelay {
  private readonly promotions = new Set<string>();
  /** Streams this process wrote to since they were last read. */
  private readonly dirty = new Set<string>();
  private lastFullScan = 0;
  private readonly grouped = new Set<string>();
  private lastRefresh = 0;
  private readonly loop: PumpLoop;

  constructor(
    private readonly redis: Redis,
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions,
  ) {
    this.loop = new PumpLoop(
      async () => {
        await this.refresh();
        return this.pumpOnce();
      },
      logger,
      {
        name: 'inventory outbox relay',
        idleMs: options.idleSleepMs ?? 20,
        errorMs: 500,
        batchMs: options.batchMs ?? 10,
      },
    );
  }

  /** Starts watching a promotion's stream, and reads it on the next pass (it has new entries). */
  watch(promotionId: string): void {
    this.promotions.add(promotionId);
    this.dirty.add(promotionId);
    this.loop.nudge();
  }

  start = () => this.loop.start();
  stop = () => this.loop.stop();

  /** One pass: every stream (claiming stale entries too) now and then, else the streams written to. */
  async pumpOnce(): Promise<number> {
    const full = Date.now() - this.lastFullScan >= (this.options.fullScanMs ?? 1_000);
    if (full) this.lastFullScan = Date.now();
    const promotions = [...(full ? this.promotions : this.dirty)];
    this.dirty.clear();
    let sent = 0;
    for (const promotionId of promotions) {
      const stream = saleKeys(promotionId).outbox;
      await this.ensureGroup(stream);
      try {
        if (full) sent += await this.publish(stream, await this.claimStale(stream));
        const fresh = await this.readNew(stream);
        // A full batch may have more behind it: read this stream again on the next pass.
        if (fresh.length >= (this.options.batchSize ?? 500)) this.dirty.add(promotionId);
        sent += await this.publish(stream, fresh);
      } catch (error) {
        // Redis lost the stream and its group (restarted empty): create the group again on the next pass.
        if (!String(error).includes('NOGROUP')) throw error;
        this.grouped.delete(stream);
      }
    }
    return sent;
  }

  private async refresh() {
    if (Date.now() - this.lastRefresh < (this.options.refreshMs ?? 5_000)) return;
    for (const id of await this.options.listPromotions()) this.promotions.add(id);
    this.lastRefresh = Date.now();
  }

  private async ensureGroup(stream: string) {
    if (this.grouped.has(stream)) return;
    try {
      // Start at 0, not $, so entries written before the group existed are published too.
      await this.redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
    this.grouped.add(stream);
  }

  private async readNew(stream: string): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      GROUP,
      this.options.consumer,
      'COUNT',
      this.options.batchSize ?? 500,
      'STREAMS',
      stream,
      '>',
    )) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async claimStale(stream: string): Promise<StreamEntry[]> {
    const reply = (await this.redis.xautoclaim(
      stream,
      GROUP,
      this.options.consumer,
      this.options.claimIdleMs ?? 30_000,
      '0-0',
      'COUNT',
      this.options.batchSize ?? 500,
    )) as [string, StreamEntry[], string[]];
    return reply[1].filter((entry) => entry[1] !== null);
  }

  private async publish(stream: string, entries: StreamEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const messages = [];
    for (const [id, fields] of entries) {
      try {
        messages.push(toMessage(fields));
      } catch (error) {
        // Only the reserve script writes here, so this is a bug or a hand-made entry. It is logged whole (to be
        // replayed by hand) and dropped with the rest of the batch's acknowledgement: it must not stop the relay.
        this.logger.error({ err: error, stream, entry: id, fields }, 'undecodable outbox entry dropped');
      }
    }
    if (messages.length > 0) await this.producer.send({ topic: Topics.OrderRequested, acks: -1, messages });
    const ids = entries.map(([id]) => id);
    await this.redis
      .multi()
      .xack(stream, GROUP, ...ids)
      .xdel(stream, ...ids)
      .exec();
    return entries.length;
  }
}

function toMessage(fields: string[]) {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const event = inventoryEventsV1.OrderRequested.fromPartial({
    eventId: f.event,
    orderId: f.order,
    promotionId: f.promotion,
    userId: f.user,
    quantity: Number(f.quantity),
    amountCents: f.amount,
    reserveTime: new Date(Number(f.at)),
    occurTime: new Date(Number(f.at)),
    paymentTimeoutSeconds: Number(f.timeout),
    idempotencyKey: f.key,
  });
  return {
    key: f.order ?? null,
    value: Buffer.from(inventoryEventsV1.OrderRequested.encode(event).finish()),
    headers: { 'event-type': 'flashsale.inventory.v1.OrderRequested', 'event-id': f.event ?? '' },
  };
}
