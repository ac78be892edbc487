import { Client } from 'pg';
import type { DbConnection } from './connection';
import type { DbLogger } from './logger';
import { toPgConfig } from './pg-config';

/**
 * Runs `work` while holding the session-level PostgreSQL advisory lock `hashtext(key)` on a dedicated connection,
 * so processes that start at the same time take turns. `work` gets that connection for its own queries. The lock
 * is released (and the connection closed) however `work` ends; if the process dies, PostgreSQL releases it.
 */
export async function withAdvisoryLock<T>(
  connection: DbConnection,
  key: string,
  logger: DbLogger,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ ...toPgConfig(connection), application_name: 'flash-db' });
  client.on('error', (error) => logger.warn({ err: error.message, key }, 'lock connection failed'));
  await client.connect();
  try {
    const tried = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    if (tried.rows[0]?.locked !== true) {
      logger.info({ key }, 'waiting for another process to finish its migrations');
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    }
    try {
      return await work(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
