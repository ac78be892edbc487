import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
import { parseDatabaseUrl } from './connection';
import { toPgConfig } from './pg-config';

/** Pool settings for {@link createPrismaAdapter}. */
export interface PrismaAdapterOptions {
  /** Most connections the pool opens (node-postgres default: 10). */
  max?: number;
  /** Shown in `pg_stat_activity.application_name`, e.g. the service name. */
  applicationName?: string;
  /** Hears every error a pooled connection emits (the server went away, for instance); default: ignored. */
  onConnectionError?: (error: Error) => void;
}

/**
 * The driver adapter a service gives its generated client: `new PrismaClient({ adapter })`. It connects with the
 * host, port, user, password and database of `databaseUrl` and works in the URL's `?schema=` (queries name it, and
 * `search_path` is set to it for raw SQL).
 *
 * Every connection of its pool has an `error` listener for as long as it lives. node-postgres emits `error` on a
 * connection the server closes (PostgreSQL shutting down, `pg_terminate_backend`) and neither the pool nor the
 * adapter listens on a connection that is checked out between queries: without this, a PostgreSQL restart at
 * that moment kills the process. The connection's next query fails instead, and the pool discards it.
 *
 * @throws DatabaseUrlError when the URL is unusable.
 */
export function createPrismaAdapter(databaseUrl: string, options: PrismaAdapterOptions = {}): PrismaPg {
  return createDatabase(databaseUrl, options).adapter;
}

/** SQL statements as node-postgres runs them: rows come back as it reads them (a bigint is a decimal string). */
export interface SqlQuery {
  query<Row>(text: string, values: readonly unknown[]): Promise<Row[]>;
}

/** Plain SQL on the pool a Prisma client runs on: for the few hot statements written in SQL. */
export interface SqlPool extends SqlQuery {
  /**
   * Runs `fn`'s statements in one transaction on one connection: committed when it resolves, rolled back when it
   * throws. A transaction left idle for over {@link TRANSACTION_IDLE_LIMIT} (a caller stuck between statements)
   * is ended by the server, so it never holds its locks for long.
   */
  transaction<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T>;
}

/** How long a transaction of {@link SqlPool} may sit idle between statements before the server ends it. */
export const TRANSACTION_IDLE_LIMIT = '30s';

const on = (client: { query: PoolClient['query'] }): SqlQuery => ({
  query: async <Row>(text: string, values: readonly unknown[]) =>
    (await client.query(text, values as unknown[])).rows as Row[],
});

async function inTransaction<T>(pool: Pool, fn: (tx: SqlQuery) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = '${TRANSACTION_IDLE_LIMIT}'`);
    const result = await fn(on(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot even roll back is not given back to the pool.
    await client.query('ROLLBACK').catch((rollbackFailed: Error) => (broken = rollbackFailed));
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * {@link createPrismaAdapter}, and the same pool for plain SQL. A statement a service already writes in SQL (a
 * consumer's batch insert over `unnest` arrays) goes straight to node-postgres: through `$queryRawUnsafe`, Prisma
 * serialises every array element and maps every returned value, which under load cost the order and inventory
 * services more CPU than the database spent on the statement. Everything else stays with Prisma.
 */
export function createDatabase(
  databaseUrl: string,
  options: PrismaAdapterOptions = {},
): { adapter: PrismaPg; sql: SqlPool } {
  const connection = parseDatabaseUrl(databaseUrl);
  const config = toPgConfig(connection);
  if (options.max !== undefined) config.max = options.max;
  if (options.applicationName !== undefined) config.application_name = options.applicationName;
  const pool = new Pool(config);
  const onError = options.onConnectionError ?? (() => undefined);
  pool.on('connect', (client) => client.on('error', onError));
  const sql: SqlPool = { ...on(pool), transaction: (fn) => inTransaction(pool, fn) };
  return {
    adapter: new PrismaPg(pool, { schema: connection.schema, disposeExternalPool: true, onPoolError: onError }),
    sql,
  };
}
