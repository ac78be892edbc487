import type { Producer } from 'kafkajs';
import type { Span } from '@opentelemetry/api';
import type { Logger } from '@flash-sale/logging';
import type { TraceCarrier } from '@flash-sale/observability';
import { endSpans, sendSpan } from './message-tracing';
import type { OutboxBacklog } from './outbox-metrics';
import { PumpLoop } from './pump-loop';

/** One SQL statement, its rows as node-postgres reads them (`SqlPool` of `@flash-sale/db` is one). */
export interface Sql {
  query<Row>(text: string, values: readonly unknown[]): Promise<Row[]>;
}

/** SQL with transactions: `fn`'s statements run on one connection, committed if it resolves, else rolled back. */
export interface TransactionalSql extends Sql {
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

interface OutboxRow {
  /** bigint, as node-postgres returns it: a decimal string. */
  id: string;
  topic: string;
  key: string;
  payload: Uint8Array;
  /** The W3C trace context of the code that wrote the row (jsonb); null for rows written before it was saved. */
  trace_context: Partial<TraceCarrier> | null;
}

export interface PgOutboxRelayOptions {
  /** Schema-qualified outbox table, e.g. `"orders"."outbox"`. */
  table: string;
  batchSize?: number;
  idleSleepMs?: number;
  /** Pause after a pass that published, so the next one sends a batch (see PumpLoop); default 10 ms. */
  batchMs?: number;
  /** Published rows are deleted after this long. */
  retentionMs?: number;
}

/**
 * Publishes a service's transactional outbox table to Kafka. One relay per service is active at a time (a
 * transaction-scoped advisory lock), so events leave in id order; rows are marked published only after Kafka
 * acknowledged them, inside the same transaction, so a crash re-sends rather than loses (consumers dedupe). Each
 * message is sent in the trace saved with its row (a `send` span, child of it, whose context its headers carry).
 */
export class PgOutboxRelay {
  private readonly loop: PumpLoop;
  private passes = 0;
  /** The last pass found nothing to publish. */
  private idle = true;

  constructor(
    private readonly db: TransactionalSql,
    private readonly producer: Producer,
    logger: Logger,
    private readonly options: PgOutboxRelayOptions,
  ) {
    this.loop = new PumpLoop(() => this.pass(), logger, {
      name: `outbox ${options.table}`,
      idleMs: options.idleSleepMs ?? 50,
      batchMs: options.batchMs ?? 10,
    });
  }

  start = () => this.loop.start();
  /** Asks for a pass now (after a write), instead of at the next tick. */
  nudge = () => this.loop.nudge();
  stop = () => this.loop.stop();

  /** One batch: returns how many events were published (0 also when another relay holds the lock). */
  async pumpOnce(): Promise<number> {
    const { table } = this.options;
    return this.db.transaction(async (tx) => {
      const [lock] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [
        `outbox-relay:${table}`,
      ]);
      if (!lock?.locked) return 0;
      const rows = await tx.query<OutboxRow>(
        `SELECT id, topic, key, payload, trace_context FROM ${table} WHERE published_at IS NULL ORDER BY id LIMIT $1`,
        [this.options.batchSize ?? 500],
      );
      if (rows.length === 0) return 0;
      const { topicMessages, spans } = groupByTopic(rows);
      try {
        await this.producer.sendBatch({ acks: -1, topicMessages });
      } catch (error) {
        endSpans(spans, error);
        throw error;
      }
      endSpans(spans);
      await tx.query(`UPDATE ${table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((row) => row.id),
      ]);
      return rows.length;
    });
  }

  /**
   * What waits to be published, for the metrics: one statement, over the (published_at, id) index; ids are
   * Snowflakes, so the lowest waiting id is the oldest row, and only its row is read for its time.
   */
  async backlog(): Promise<OutboxBacklog> {
    const { table } = this.options;
    const [row] = await this.db.query<{ pending: number; age: number }>(
      `SELECT count(*)::int AS pending,
              COALESCE(EXTRACT(EPOCH FROM now() - (SELECT created_at FROM ${table}
                WHERE published_at IS NULL ORDER BY id LIMIT 1)), 0)::float8 AS age
         FROM ${table} WHERE published_at IS NULL`,
      [],
    );
    return { pending: row?.pending ?? 0, oldestAgeSeconds: Math.max(0, row?.age ?? 0) };
  }

  private async pass() {
    if (++this.passes % 1_000 === 0) await this.purge();
    // An idle relay first asks, in one indexed query outside any transaction, whether anything waits: a quiet
    // service then costs itself and PostgreSQL one round trip per tick instead of a four-statement transaction.
    if (this.idle && !(await this.hasUnpublished())) return 0;
    const published = await this.pumpOnce();
    this.idle = published === 0;
    return published;
  }

  private async hasUnpublished() {
    const [row] = await this.db.query<{ waiting: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${this.options.table} WHERE published_at IS NULL) AS waiting`,
      [],
    );
    return row?.waiting === true;
  }

  private async purge() {
    const cutoff = new Date(Date.now() - (this.options.retentionMs ?? 24 * 3600 * 1000));
    await this.db.query(`DELETE FROM ${this.options.table} WHERE published_at < $1`, [cutoff]);
  }
}

function groupByTopic(rows: OutboxRow[]) {
  const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
  const spans: Span[] = [];
  for (const row of rows) {
    const messages = byTopic.get(row.topic) ?? [];
    const { span, headers } = sendSpan(row.topic, row.trace_context);
    spans.push(span);
    messages.push({ key: row.key, value: Buffer.from(row.payload), headers: { ...headers, 'event-id': row.id } });
    byTopic.set(row.topic, messages);
  }
  return { topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), spans };
}
