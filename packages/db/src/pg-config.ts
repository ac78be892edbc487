import type { PoolConfig } from 'pg';
import { assertSchemaName, type DbConnection } from './connection';

/**
 * node-postgres settings for `connection`: host, port, user and database as separate fields (never a connection
 * string, which Prisma's shadow-database code would copy), and `search_path` set to the service's schema at
 * connection start-up, so every pooled connection sees unqualified names in that schema (as Prisma's own engine
 * does with `?schema=`).
 */
export function toPgConfig(connection: DbConnection): PoolConfig {
  assertSchemaName(connection.schema);
  const config: PoolConfig = {
    host: connection.host,
    port: connection.port,
    user: connection.user,
    database: connection.database,
    options: `-c search_path="${connection.schema}"`,
  };
  if (connection.password !== undefined) config.password = connection.password;
  return config;
}
