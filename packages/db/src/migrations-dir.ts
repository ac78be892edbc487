import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm' with { 'resolution-mode': 'import' };

/** The lock file Prisma keeps beside the migrations. */
export const MIGRATION_LOCK_FILE = 'migration_lock.toml';
/** The SQL file inside each `<timestamp>_<name>` migration folder. */
export const MIGRATION_FILE = 'migration.sql';

/**
 * Reads a `prisma/migrations` folder the way the Prisma CLI does before it calls the schema engine: every
 * sub-folder is a migration (sorted by name), its `migration.sql` is read as UTF-8 text (the engine checksums
 * exactly this text, so the checksums equal the CLI's), and the lock file is passed along when present.
 *
 * @throws Error when the folder does not exist.
 */
export async function readMigrationsDirectory(migrationsDir: string): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  let entries: Dirent[];
  try {
    entries = await readdir(baseDir, { withFileTypes: true });
  } catch (error) {
    throw new Error(`Cannot read the migrations folder ${baseDir}: ${(error as Error).message}`, { cause: error });
  }
  const lockContent = await readFile(path.join(baseDir, MIGRATION_LOCK_FILE), 'utf8').catch(() => null);
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: MIGRATION_FILE,
        content: await readFile(path.join(baseDir, name, MIGRATION_FILE), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        ),
      },
    })),
  );
  return {
    baseDir,
    lockfile: { path: MIGRATION_LOCK_FILE, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}
