import { silentLogger, type DbLogger } from './logger';
import { OfflineAdapterFactory } from './offline-adapter';
import { NO_FILTERS, withSchemaEngine } from './schema-engine';

/** Stands for "no schema yet": diffing from it creates every table, without a `CREATE SCHEMA "public"`. */
const EMPTY_POSTGRES_SCHEMA = 'datasource db {\n  provider = "postgresql"\n}\n';

/**
 * The SQL that migrates a database from the `from` Prisma schema to the `to` one (both as file contents; `from`
 * null means "nothing yet"), computed by the wasm schema engine without any database. Returns null when the two
 * schemas need no change.
 *
 * @throws Error with Prisma's validation report when a schema is invalid.
 */
export async function diffSchemas(
  from: string | null,
  to: string,
  options: { schemaPath?: string; logger?: DbLogger } = {},
): Promise<string | null> {
  const { schemaPath = 'schema.prisma', logger = silentLogger } = options;
  const files = (content: string) => [{ path: schemaPath, content }];
  const result = await withSchemaEngine(new OfflineAdapterFactory(), logger, (engine) =>
    engine.diff({
      from: { tag: 'schemaDatamodel', files: files(from ?? EMPTY_POSTGRES_SCHEMA) },
      to: { tag: 'schemaDatamodel', files: files(to) },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    }),
  );
  if (result.exitCode === 0) return null;
  return result.stdout ?? '';
}
