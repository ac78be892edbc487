import type { Client } from 'pg';
import { withAdvisoryLock } from './advisory-lock';
import { assertSchemaName, type DbConnection } from './connection';
import { errorMessage, MigrationError } from './errors';
import { silentLogger, type DbLogger } from './logger';
import { MigrationAdapterFactory } from './migration-adapter';
import { readMigrationsDirectory } from './migrations-dir';
import { NO_FILTERS, withSchemaEngine } from './schema-engine';

/** What {@link applyMigrations} needs. */
export interface ApplyMigrationsOptions {
  /** A Prisma migrations folder: `<timestamp>_<name>/migration.sql` sub-folders and `migration_lock.toml`. */
  migrationsDir: string;
  /** The database, role and schema; the `_prisma_migrations` table lives in that schema. */
  connection: DbConnection;
  logger?: DbLogger;
}

/** What {@link applyMigrations} did. */
export interface ApplyMigrationsResult {
  /** The migrations applied by this call, in order; empty when the schema was already up to date. */
  applied: string[];
}

/**
 * Applies the migrations of `migrationsDir` that the schema has not seen, exactly as `prisma migrate deploy`
 * would (same `_prisma_migrations` table, same SHA-256 checksums), but through `@prisma/schema-engine-wasm`, so no
 * engine binary is needed. The schema is created when missing (the role needs the right to). Concurrent callers
 * on the same schema take turns on the advisory lock `hashtext('prisma-migrate:' || schema)`, so each migration
 * runs once. Each migration runs in one implicit transaction.
 *
 * @throws MigrationError naming the failed migration (recorded as failed in `_prisma_migrations`; the earlier
 *   ones stay applied). Later calls then fail until the failure is resolved, as with the Prisma CLI.
 */
export async function applyMigrations(options: ApplyMigrationsOptions): Promise<ApplyMigrationsResult> {
  const { migrationsDir, connection, logger = silentLogger } = options;
  assertSchemaName(connection.schema);
  const migrationsList = await readMigrationsDirectory(migrationsDir);
  const where = { schema: connection.schema, database: connection.database, host: connection.host };
  const key = `prisma-migrate:${connection.schema}`;
  const started = Date.now();

  const applied = await withAdvisoryLock(connection, key, logger, async (client) => {
    await ensureSchema(client, connection);
    const factory = new MigrationAdapterFactory(connection);
    try {
      const output = await withSchemaEngine(factory, logger, (engine) =>
        engine.applyMigrations({ migrationsList, filters: NO_FILTERS }),
      );
      return output.appliedMigrationNames;
    } catch (error) {
      throw await toMigrationError(error, client);
    } finally {
      await factory.dispose();
    }
  }).catch((error: unknown) => {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError(`Cannot apply migrations to ${describe(connection)}: ${errorMessage(error)}`, undefined, {
      cause: error,
    });
  });

  for (const name of applied) logger.info({ ...where, migration: name }, 'migration applied');
  logger.info(
    { ...where, applied: applied.length, known: migrationsList.migrationDirectories.length, ms: Date.now() - started },
    applied.length === 0 ? 'database schema is up to date' : 'migrations applied',
  );
  return { applied };
}

async function ensureSchema(client: Client, connection: DbConnection): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [connection.schema]);
  if (found.rowCount !== 0) return;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${connection.schema}"`);
  } catch (error) {
    throw new Error(`schema ${connection.schema} does not exist and cannot be created: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/** Turns the engine's error (a Rust error report with a span trace) into a {@link MigrationError}. */
async function toMigrationError(error: unknown, client: Client): Promise<MigrationError> {
  const text = errorMessage(error);
  let name = /migration_name="([^"]+)"/.exec(text)?.[1];
  name ??= await client
    .query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at DESC LIMIT 1',
    )
    .then((result) => result.rows[0]?.migration_name)
    .catch(() => undefined);
  const reason = cleanEngineMessage(text);
  const message = name ? `Migration ${name} failed: ${reason}` : `Applying migrations failed: ${reason}`;
  return new MigrationError(message, name, { cause: error });
}

/** Drops the span trace ("   0: sql_schema_connector::…") and the generic first line of an engine error. */
function cleanEngineMessage(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s+\d+: /.test(line)) break;
    if (line.trim() !== '' && line.trim() !== 'external connector error') lines.push(line.trimEnd());
  }
  return lines.join('\n') || text;
}

function describe(connection: DbConnection): string {
  return `${connection.user}@${connection.host}:${connection.port}/${connection.database} (schema ${connection.schema})`;
}
