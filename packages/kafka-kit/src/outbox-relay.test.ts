import type { Producer } from 'kafkajs';
import { createLogger } from '@flash-sale/logging';
import { PgOutboxRelay, type Sql, type TransactionalSql } from './outbox-relay';

const logger = createLogger({ service: 'outbox-relay-test', level: 'silent' });

interface Row {
  id: string;
  topic: string;
  key: string;
  payload: Uint8Array;
  published: boolean;
}

/** An outbox table in memory that answers the relay's statements and records which ones it was sent. */
function fakeOutbox() {
  const rows: Row[] = [];
  const statements: string[] = [];
  const sql: Sql = {
    async query<T>(query: string, values: readonly unknown[]) {
      statements.push(query.split(' ').slice(0, 3).join(' '));
      const waiting = rows.filter((row) => !row.published);
      if (query.includes('EXISTS')) return [{ waiting: waiting.length > 0 }] as T[];
      if (query.includes('advisory')) return [{ locked: true }] as T[];
      if (query.startsWith('UPDATE')) {
        const ids = values[0] as string[];
        for (const row of rows) if (ids.includes(row.id)) row.published = true;
        return [];
      }
      return waiting as T[];
    },
  };
  const db: TransactionalSql = {
    ...sql,
    async transaction(fn) {
      statements.push('BEGIN');
      return fn(sql);
    },
  };
  const add = (id: number) =>
    rows.push({
      id: String(id),
      topic: 'order.events',
      key: `order-${id}`,
      payload: Buffer.from('x'),
      published: false,
    });
  return { db, rows, statements, add };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
};

describe('PgOutboxRelay', () => {
  it('when the outbox is empty, then each pass is one existence query and no transaction; rows written later are published', async () => {
    const outbox = fakeOutbox();
    const sent: string[] = [];
    const producer = {
      sendBatch: async ({ topicMessages }: { topicMessages: { messages: { key: string }[] }[] }) => {
        sent.push(...topicMessages.flatMap((topic) => topic.messages.map((message) => message.key)));
        return [];
      },
    } as unknown as Producer;
    const relay = new PgOutboxRelay(outbox.db, producer, logger, { table: 'outbox', idleSleepMs: 1, batchMs: 1 });
    relay.start();
    try {
      await until(() => outbox.statements.length >= 5);
      expect(new Set(outbox.statements)).toEqual(new Set(['SELECT EXISTS (SELECT']));

      outbox.add(1);
      outbox.add(2);
      relay.nudge();
      await until(() => sent.length === 2);
      expect(sent).toEqual(['order-1', 'order-2']);
      await until(() => outbox.rows.every((row) => row.published));
      expect(outbox.statements).toContain('BEGIN');
    } finally {
      await relay.stop();
    }
  });
});
