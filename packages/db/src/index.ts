/**
 * @flash-sale/db: Prisma without engine downloads. Apply a service's migrations at start-up, build the driver
 * adapter its generated client runs on, and (through the `flash-db` command) generate clients and new migrations.
 */
export { applyMigrations, type ApplyMigrationsOptions, type ApplyMigrationsResult } from './apply-migrations';
export { assertSchemaName, parseDatabaseUrl, redactDatabaseUrl, type DbConnection } from './connection';
export {
  createDatabase,
  createPrismaAdapter,
  type PrismaAdapterOptions,
  type SqlPool,
  type SqlQuery,
} from './prisma-adapter';
export { DatabaseUrlError, MigrationError } from './errors';
export { silentLogger, type DbLogger } from './logger';
export { resolveMigration, type ResolveMigrationOptions } from './resolve-migration';
export { diffSchemas } from './diff-schemas';
export { createMigration, type CreateMigrationOptions, type CreateMigrationResult } from './new-migration';
export {
  runPrismaGenerate,
  SCHEMA_ENGINE_PLACEHOLDER,
  type PrismaGenerateOptions,
  type PrismaGenerateResult,
} from './generate';
