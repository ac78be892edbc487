import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createMigration } from '../src/new-migration';
import { FIXTURE_DIR, FIXTURE_MIGRATIONS } from './helpers';

/** The fixture schema before its second migration: customers only. */
async function schemas(): Promise<{ v1: string; v2: string }> {
  const v2 = await readFile(path.join(FIXTURE_DIR, 'prisma', 'schema.prisma'), 'utf8');
  const v1 = v2.replace(/\nenum OrderStatus[\s\S]*$/, '\n').replace('\n  orders Order[]\n', '\n');
  return { v1, v2 };
}

function fixtureSql(name: string): Promise<string> {
  return readFile(path.join(FIXTURE_MIGRATIONS, name, 'migration.sql'), 'utf8');
}

describe('createMigration', () => {
  let repo: string;
  let service: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], {
      cwd: repo,
      stdio: 'pipe',
    });

  beforeEach(async () => {
    repo = await mkdtemp(path.join(os.tmpdir(), 'flash-db-git-'));
    service = path.join(repo, 'services', 'shop');
    await mkdir(path.join(service, 'prisma'), { recursive: true });
    git('init', '-q');
  });

  afterEach(() => rm(repo, { recursive: true, force: true }));

  it('when the schema is not in git HEAD yet, then the migration creates everything and the lock file is written', async () => {
    const { v1 } = await schemas();
    await writeFile(path.join(service, 'prisma', 'schema.prisma'), v1);

    const result = await createMigration({
      serviceDir: service,
      name: 'customers',
      now: new Date('2025-01-01T00:00:00Z'),
    });

    expect(result.migrationDir).toBe(path.join(service, 'prisma', 'migrations', '20250101000000_customers'));
    expect(await readFile(path.join(result.migrationDir ?? '', 'migration.sql'), 'utf8')).toBe(
      await fixtureSql('20250101000000_customers'),
    );
    expect(await readFile(path.join(service, 'prisma', 'migrations', 'migration_lock.toml'), 'utf8')).toBe(
      await readFile(path.join(FIXTURE_MIGRATIONS, 'migration_lock.toml'), 'utf8'),
    );
  });

  it('when the schema is committed but has no migration yet, then the first migration creates everything', async () => {
    const { v1 } = await schemas();
    await writeFile(path.join(service, 'prisma', 'schema.prisma'), v1);
    git('add', '.');
    git('commit', '-q', '-m', 'schema without migrations');

    const result = await createMigration({ serviceDir: service, name: 'init', now: new Date('2025-01-01T00:00:00Z') });

    expect(path.basename(result.migrationDir ?? '')).toBe('20250101000000_init');
    expect(result.sql).toBe(await fixtureSql('20250101000000_customers'));
  });

  it('when the working schema differs from HEAD, then the migration holds only the difference', async () => {
    const { v1, v2 } = await schemas();
    await writeFile(path.join(service, 'prisma', 'schema.prisma'), v1);
    await createMigration({ serviceDir: service, name: 'customers', now: new Date('2025-01-01T00:00:00Z') });
    git('add', '.');
    git('commit', '-q', '-m', 'customers');
    await writeFile(path.join(service, 'prisma', 'schema.prisma'), v2);

    const result = await createMigration({
      serviceDir: service,
      name: 'Orders',
      now: new Date('2025-01-02T00:00:00Z'),
    });

    expect(path.basename(result.migrationDir ?? '')).toBe('20250102000000_orders');
    expect(result.sql).toBe(await fixtureSql('20250102000000_orders'));
  });

  it('when the working schema equals HEAD, then nothing is written', async () => {
    const { v2 } = await schemas();
    await writeFile(path.join(service, 'prisma', 'schema.prisma'), v2);
    await createMigration({ serviceDir: service, name: 'all' });
    git('add', '.');
    git('commit', '-q', '-m', 'all');
    const before = await readdir(path.join(service, 'prisma', 'migrations'));

    const result = await createMigration({ serviceDir: service, name: 'nothing' });

    expect(result).toEqual({ migrationDir: null, sql: null });
    expect(await readdir(path.join(service, 'prisma', 'migrations'))).toEqual(before);
  });

  it('when the working schema is invalid, then it fails with Prisma’s validation message and writes nothing', async () => {
    await writeFile(path.join(service, 'prisma', 'schema.prisma'), 'model Broken {\n  id Int\n}\n');

    await expect(createMigration({ serviceDir: service, name: 'broken' })).rejects.toThrow(/datasource|@id|unique/i);
    expect(await readdir(path.join(service, 'prisma'))).toEqual(['schema.prisma']);
  });

  it('when the folder is not in a git work tree, then it fails saying so', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'flash-db-nogit-'));
    try {
      await mkdir(path.join(outside, 'prisma'));
      await writeFile(path.join(outside, 'prisma', 'schema.prisma'), (await schemas()).v1);

      await expect(createMigration({ serviceDir: outside, name: 'x' })).rejects.toThrow(/git rev-parse/);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
