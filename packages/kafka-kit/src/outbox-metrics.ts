import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@flash-sale/logging';
import { scrapeCache } from './scrape-cache';

/** What waits in an outbox for Kafka. */
export interface OutboxBacklog {
  pending: number;
  /** Age of the oldest entry waiting, in seconds; 0 when none waits. */
  oldestAgeSeconds: number;
}

/**
 * `flashsale_outbox_pending{outbox}` and `flashsale_outbox_oldest_age_seconds{outbox}` in `registry`, read from
 * `outbox` (`redis_stream`, `postgres`) when scraped: one read serves both gauges. Absent while the read fails.
 */
export function registerOutboxGauges(
  registry: Registry,
  outbox: string,
  backlog: () => Promise<OutboxBacklog>,
  logger: Logger,
): void {
  const read = scrapeCache(backlog, { maxAgeMs: 500, timeoutMs: 2_000 });
  const gauge = (name: string, help: string, pick: (backlog: OutboxBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['outbox'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        try {
          this.set({ outbox }, pick(await read()));
        } catch (error) {
          logger.debug({ err: error, outbox }, 'outbox backlog not read');
        }
      },
    });
  gauge('flashsale_outbox_pending', 'Entries written to an outbox and not yet acknowledged by Kafka', (b) => b.pending);
  gauge(
    'flashsale_outbox_oldest_age_seconds',
    'Age of the oldest outbox entry not yet acknowledged by Kafka; 0 when the outbox is empty',
    (b) => b.oldestAgeSeconds,
  );
}
