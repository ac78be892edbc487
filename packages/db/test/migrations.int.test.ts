import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyMigrations } from '../src/apply-migrations';
import type { DbConnection } from '../src/connection';
import { MigrationError } from '../src/errors';
import { resolveMigration } from '../src/resolve-migration';
import { copyOfFixtureMigrations, FIXTURE_MIGRATION_NAMES, FIXTURE_MIGRATIONS, ScratchSchemas } from './helpers';

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

const schemas = new ScratchSchemas();
beforeAll(() => schemas.start());
afterAll(() => schemas.stop());

function migrationRows(connection: DbConnection): Promise<MigrationRow[]> {
  return schemas.query<MigrationRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count
       FROM "${connection.schema}"._prisma_migrations ORDER BY started_at, migration_name`,
  );
}

async function tablesOf(schema: string): Promise<string[]> {
  const rows = await schemas.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return rows.map((row) => row.table_name);
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

describe('applyMigrations', () => {
  it('when the schema is empty, then every migration is applied in order and its tables are created in that schema', async () => {
    const connection = await schemas.create();

    const result = await applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection });

    expect(result.applied).toEqual(FIXTURE_MIGRATION_NAMES);
    expect(await tablesOf(connection.schema)).toEqual(['_prisma_migrations', 'customers', 'orders']);
    const [column] = await schemas.query<{ column_default: string }>(
      `SELECT column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'orders' AND column_name = 'note'`,
      [connection.schema],
    );
    expect(column?.column_default).toBe(`'none; yet'::text`);
  });

  it('when migrations are applied, then _prisma_migrations records each with the SHA-256 of its migration.sql, as prisma migrate deploy does', async () => {
    const connection = await schemas.create();

    await applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection });

    const expected = await Promise.all(
      FIXTURE_MIGRATION_NAMES.map(async (name) => ({
        migration_name: name,
        checksum: createHash('sha256')
          .update(await readFile(path.join(FIXTURE_MIGRATIONS, name, 'migration.sql')))
          .digest('hex'),
        rolled_back_at: null,
        applied_steps_count: 1,
      })),
    );
    const rows = await migrationRows(connection);
    expect(rows).toMatchObject(expected);
    for (const row of rows) expect(row.finished_at).toBeInstanceOf(Date);
  });

  it('when run a second time, then it applies nothing and records nothing new', async () => {
    const connection = await schemas.create();
    await applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection });

    const second = await applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection });

    expect(second.applied).toEqual([]);
    expect(await migrationRows(connection)).toHaveLength(FIXTURE_MIGRATION_NAMES.length);
  });

  it('when several runs start at once, then each migration is applied exactly once', async () => {
    const connection = await schemas.create();

    const results = await Promise.all(
      [1, 2, 3].map(() => applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection })),
    );

    expect(results.flatMap((result) => result.applied).sort()).toEqual(FIXTURE_MIGRATION_NAMES);
    const rows = await migrationRows(connection);
    expect(rows.map((row) => row.migration_name)).toEqual(FIXTURE_MIGRATION_NAMES);
  });

  it('when a migration holds semicolons in strings and in a $$ function body, then it runs as written', async () => {
    const connection = await schemas.create();
    const copy = await copyOfFixtureMigrations();
    try {
      await addMigration(
        copy.dir,
        '20250103000000_function',
        `CREATE FUNCTION shout(t TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
BEGIN
  RETURN upper(t) || '; done';
END;
$$;
INSERT INTO customers (id, email) VALUES (7, 'semi;colon@example.com');
`,
      );

      await applyMigrations({ migrationsDir: copy.dir, connection });

      const [row] = await schemas.query<{ shouted: string }>(
        `SELECT "${connection.schema}".shout(email) AS shouted FROM "${connection.schema}".customers WHERE id = 7`,
      );
      expect(row?.shouted).toBe('SEMI;COLON@EXAMPLE.COM; done');
    } finally {
      await copy.remove();
    }
  });

  it('when a migration has broken SQL, then the run fails naming it, the earlier ones stay recorded and none of its statements remain', async () => {
    const connection = await schemas.create();
    const copy = await copyOfFixtureMigrations();
    try {
      await addMigration(
        copy.dir,
        '20250103000000_broken',
        'CREATE TABLE half_done (id INT PRIMARY KEY);\nSELECT * FROM no_such_table;\n',
      );

      const failure = await applyMigrations({ migrationsDir: copy.dir, connection }).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(MigrationError);
      expect((failure as MigrationError).migrationName).toBe('20250103000000_broken');
      expect((failure as MigrationError).message).toMatch(/20250103000000_broken/);
      expect((failure as MigrationError).message).toMatch(/no_such_table/);
      const rows = await migrationRows(connection);
      expect(rows.map((row) => [row.migration_name, row.finished_at !== null])).toEqual([
        ['20250101000000_customers', true],
        ['20250102000000_orders', true],
        ['20250103000000_broken', false],
      ]);
      expect(await tablesOf(connection.schema)).not.toContain('half_done');
    } finally {
      await copy.remove();
    }
  });

  it('when a migration failed before, then later runs fail naming it until it is resolved, and after that the fixed migration is applied', async () => {
    const connection = await schemas.create();
    const copy = await copyOfFixtureMigrations();
    try {
      await addMigration(copy.dir, '20250103000000_broken', 'SELECT * FROM no_such_table;\n');
      await expect(applyMigrations({ migrationsDir: copy.dir, connection })).rejects.toThrow(MigrationError);

      await expect(applyMigrations({ migrationsDir: copy.dir, connection })).rejects.toMatchObject({
        migrationName: '20250103000000_broken',
        message: expect.stringMatching(/failed migrations/),
      });

      await writeFile(path.join(copy.dir, '20250103000000_broken', 'migration.sql'), 'CREATE TABLE fixed (id INT);\n');
      await resolveMigration({
        migrationsDir: copy.dir,
        connection,
        migrationName: '20250103000000_broken',
        as: 'rolled-back',
      });
      const result = await applyMigrations({ migrationsDir: copy.dir, connection });

      expect(result.applied).toEqual(['20250103000000_broken']);
      expect(await tablesOf(connection.schema)).toContain('fixed');
    } finally {
      await copy.remove();
    }
  });

  it('when the migrations folder does not exist, then it fails saying which folder', async () => {
    const connection = await schemas.create();

    await expect(applyMigrations({ migrationsDir: '/nonexistent/migrations', connection })).rejects.toThrow(
      /\/nonexistent\/migrations/,
    );
  });

  it('when the database is unreachable, then it fails with a MigrationError naming the server', async () => {
    const connection = await schemas.create();

    const failure = applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection: { ...connection, port: 1 } });

    await expect(failure).rejects.toThrow(MigrationError);
    await expect(failure).rejects.toThrow(/:1\/.*ECONNREFUSED/);
  });
});
