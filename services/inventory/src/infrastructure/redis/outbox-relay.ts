import type { Redis } from 'ioredis';
import type { Message, Producer } from 'kafkajs';
import { inventoryEventsV1 } from '@flash-sale/contracts';
import { endSpans, PumpLoop, sendSpan, type OutboxBacklog } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import { saleKeys } from '../../domain/sale-keys';
import { fromTraceField } from './trace-field';

const GROUP = 'relay';

export interface OutboxRelayOptions {
  /** Where reservations go: the mesh's name for `order.requested`. */
  topic: string;
  /** This process's name in the stream's consumer group. */
  consumer: string;
  batchSize?: number;
  /** Entries another relay read but did not acknowledge for this long are taken over (it probably died). */
  claimIdleMs?: number;
  idleSleepMs?: number;
  /** Pause after a pass that published, so the next one sends a batch (see PumpLoop); default 2 ms. */
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
 * they are claimed and sent again, and the order service dedupes by event id, so nothing is lost or doubled. Each
 * message goes in the purchase's trace (the entry's `trace` field): a `send` span, child of it, in its headers.
 */
export class OutboxRelay {
  private readonly promotions = new Set<string>();
  /** Streams this process wrote to since they were last read. */
  private readonly dirty = new Set<string>();
  private lastFullScan = 0;
  private readonly grouped = new Set<string>();
  private lastRefresh = 0;
  private readonly loop: PumpLoop;
  /** Streams whose entries this relay read but failed to send: read again from its own pending list. */
  private readonly unsent = new Set<string>();
  /** Reserve calls waiting for their reservation to be in Kafka, by order id. */
  private readonly waiting = new Map<string, () => void>();

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
        batchMs: options.batchMs ?? 2,
      },
    );
  }

  /** Starts watching a promotion's stream, and reads it on the next pass (it has new entries). */
  watch(promotionId: string): void {
    this.promotions.add(promotionId);
    this.dirty.add(promotionId);
    this.loop.nudge();
  }

  /**
   * Watches for the reservation of `orderId` to be in Kafka (the broker acknowledged it with acks=all): `done`
   * resolves true then, or false after `timeoutMs`. Start watching before the reserve script runs.
   */
  published(orderId: string, timeoutMs: number): { done: Promise<boolean>; cancel(): void } {
    let settle: (value: boolean) => void = () => undefined;
    const done = new Promise<boolean>((resolve) => (settle = resolve));
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (value: boolean) => {
      clearTimeout(timer);
      this.waiting.delete(orderId);
      settle(value);
    };
    this.waiting.set(orderId, () => finish(true));
    return { done, cancel: () => finish(false) };
  }

  start = () => this.loop.start();
  stop = () => this.loop.stop();

  /**
   * One pass: every stream (claiming stale entries too) now and then, else the streams written to. All streams are
   * read at once (one pipelined round trip) and everything found goes to Kafka in one request, so a pass costs the
   * same for one sale or hundreds, and the buyers waiting for their reservation to be durable wait for one pass.
   */
  async pumpOnce(): Promise<number> {
    const full = Date.now() - this.lastFullScan >= (this.options.fullScanMs ?? 1_000);
    if (full) this.lastFullScan = Date.now();
    const promotions = [...new Set([...(full ? this.promotions : this.dirty), ...this.unsent])];
    this.dirty.clear();
    const batchSize = this.options.batchSize ?? 500;
    const reads = await Promise.all(
      promotions.map(async (promotionId) => {
        const stream = saleKeys(promotionId).outbox;
        try {
          await this.ensureGroup(stream);
          const [stale, fresh] = await Promise.all([
            full ? this.claimStale(stream) : Promise.resolve([]),
            this.readNew(stream, this.unsent.has(promotionId) ? '0' : '>'),
          ]);
          // A full batch may have more behind it: read this stream again on the next pass.
          if (fresh.length >= batchSize) this.dirty.add(promotionId);
          return { promotionId, stream, entries: [...stale, ...fresh] };
        } catch (error) {
          // Redis lost the stream and its group (restarted empty): create the group again on the next pass.
          if (!String(error).includes('NOGROUP')) throw error;
          this.grouped.delete(stream);
          return { promotionId, stream, entries: [] as StreamEntry[] };
        }
      }),
    );
    const found = reads.filter((read) => read.entries.length > 0);
    this.unsent.clear();
    try {
      return await this.publish(found);
    } catch (error) {
      // Kafka refused or is away: these entries stay pending for this relay; read them again next time, rather than
      // waiting for them to go stale and be claimed.
      for (const read of found) this.unsent.add(read.promotionId);
      throw error;
    }
  }

  /**
   * What waits in the streams this relay watches, for the metrics: one pipelined round trip, each stream's length
   * (entries leave a stream once Kafka has them) and its first entry, whose id is Redis's time when it was added.
   */
  async backlog(): Promise<OutboxBacklog> {
    const streams = [...this.promotions].map((promotionId) => saleKeys(promotionId).outbox);
    const pipeline = this.redis.pipeline().time();
    for (const stream of streams) pipeline.xlen(stream).xrange(stream, '-', '+', 'COUNT', 1);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    const [seconds, micros] = replies[0]![1] as [string, string];
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    let pending = 0;
    let oldestMs = nowMs;
    for (let i = 1; i < replies.length; i += 2) {
      pending += replies[i]![1] as number;
      const [first] = replies[i + 1]![1] as StreamEntry[];
      if (first) oldestMs = Math.min(oldestMs, Number(first[0].split('-')[0]));
    }
    return { pending, oldestAgeSeconds: Math.max(0, nowMs - oldestMs) / 1000 };
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

  /** `>`: entries never delivered; `0`: this relay's own delivered but unacknowledged ones. */
  private async readNew(stream: string, from: '>' | '0' = '>'): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      GROUP,
      this.options.consumer,
      'COUNT',
      this.options.batchSize ?? 500,
      'STREAMS',
      stream,
      from,
    )) as [string, StreamEntry[]][] | null;
    // Entries deleted after they were delivered come back without fields.
    return (reply?.[0]?.[1] ?? []).filter((entry) => entry[1] !== null);
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

  private async publish(reads: { stream: string; entries: StreamEntry[] }[]): Promise<number> {
    if (reads.length === 0) return 0;
    const messages: Message[] = [];
    const spans: ReturnType<typeof toMessage>['span'][] = [];
    for (const { stream, entries } of reads) {
      for (const [id, fields] of entries) {
        try {
          const { message, span } = toMessage(this.options.topic, fields);
          messages.push(message);
          spans.push(span);
        } catch (error) {
          // Only the reserve script writes here, so this is a bug or a hand-made entry. It is logged whole (to be
          // replayed by hand) and dropped with the rest of the batch's acknowledgement: it must not stop the relay.
          this.logger.error({ err: error, stream, entry: id, fields }, 'undecodable outbox entry dropped');
        }
      }
    }
    try {
      if (messages.length > 0) await this.producer.send({ topic: this.options.topic, acks: -1, messages });
    } catch (error) {
      endSpans(spans, error);
      throw error;
    }
    endSpans(spans);
    // Each waiter removes itself from the map when it settles.
    for (const { key } of messages) if (typeof key === 'string') this.waiting.get(key)?.();
    await Promise.all(
      reads.map(({ stream, entries }) => {
        const ids = entries.map(([id]) => id);
        return this.redis
          .multi()
          .xack(stream, GROUP, ...ids)
          .xdel(stream, ...ids)
          .exec();
      }),
    );
    return reads.reduce((sum, read) => sum + read.entries.length, 0);
  }
}

function toMessage(topic: string, fields: string[]) {
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
  const value = Buffer.from(inventoryEventsV1.OrderRequested.encode(event).finish());
  // Started once the entry decoded: an undecodable one is dropped, not sent.
  const { span, headers } = sendSpan(topic, fromTraceField(f.trace));
  return {
    message: {
      key: f.order ?? null,
      value,
      headers: { ...headers, 'event-type': 'flashsale.inventory.v1.OrderRequested', 'event-id': f.event ?? '' },
    },
    span,
  };
}
