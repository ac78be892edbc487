import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Pool } from 'pg';
import type { DbConnection } from './connection';
import { toPgConfig } from './pg-config';

/**
 * The driver-adapter factory the wasm schema engine applies migrations through: `PrismaPg` on the service's
 * schema, with two changes.
 *
 * - A migration script runs as ONE simple-protocol query on one connection, as Prisma's native engine runs it:
 *   PostgreSQL then executes it in one implicit transaction, so a failing migration leaves none of its statements
 *   behind. `PrismaPg#executeScript` instead splits the script on every `;` (breaking string literals and
 *   `$$` function bodies) and sends the pieces through the pool one by one.
 * - It remembers the adapters it opened so {@link MigrationAdapterFactory.dispose} can close their pools (the
 *   engine never does, and one of those connections holds the engine's global advisory lock 72707369).
 *
 * There is no shadow database: applying migrations never needs one.
 */
export class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName: string;
  private readonly pg: PrismaPg;
  private readonly opened: SqlDriverAdapter[] = [];

  constructor(connection: DbConnection) {
    this.pg = new PrismaPg({ ...toPgConfig(connection), max: 2 }, { schema: connection.schema });
    this.adapterName = this.pg.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await this.pg.connect();
    this.opened.push(adapter);
    const onError = (adapter as unknown as { onError(error: unknown): never }).onError.bind(adapter);
    const pool: Pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string): Promise<void> => {
      try {
        await pool.query(script);
      } catch (error) {
        onError(error);
      }
    };
    return adapter;
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return Promise.reject(new Error('@flash-sale/db never uses a shadow database'));
  }

  /** Closes every pool this factory opened. Safe to call more than once. */
  async dispose(): Promise<void> {
    const adapters = this.opened.splice(0);
    await Promise.all(adapters.map((adapter) => adapter.dispose().catch(() => undefined)));
  }
}
