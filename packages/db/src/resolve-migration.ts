import { withAdvisoryLock } from './advisory-lock';
import { assertSchemaName, type DbConnection } from './connection';
import { silentLogger, type DbLogger } from './logger';
import { MigrationAdapterFactory } from './migration-adapter';
import { readMigrationsDirectory } from './migrations-dir';
import { withSchemaEngine } from './schema-engine';

/** What {@link resolveMigration} needs. */
export interface ResolveMigrationOptions {
  migrationsDir: string;
  connection: DbConnection;
  /** The migration folder name, e.g. `20250101120000_add_orders`. */
  migrationName: string;
  /**
   * `rolled-back`: a failed migration was undone by hand; it will be applied again by the next run.
   * `applied`: its changes are already in the database; record it as applied without running it.
   */
  as: 'rolled-back' | 'applied';
  logger?: DbLogger;
}

/**
 * The offline twin of `prisma migrate resolve --rolled-back | --applied`: the way out after a migration failed
 * (a failed migration blocks every later run until it is resolved).
 */
export async function resolveMigration(options: ResolveMigrationOptions): Promise<void> {
  const { migrationsDir, connection, migrationName, as, logger = silentLogger } = options;
  assertSchemaName(connection.schema);
  const migrationsList = await readMigrationsDirectory(migrationsDir);
  await withAdvisoryLock(connection, `prisma-migrate:${connection.schema}`, logger, async () => {
    const factory = new MigrationAdapterFactory(connection);
    try {
      await withSchemaEngine(factory, logger, (engine) =>
        as === 'applied'
          ? engine.markMigrationApplied({ migrationName, migrationsList })
          : engine.markMigrationRolledBack({ migrationName }),
      );
    } finally {
      await factory.dispose();
    }
  });
  logger.info({ schema: connection.schema, migration: migrationName, as }, 'migration resolved');
}
