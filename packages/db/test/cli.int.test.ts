import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DIR, FIXTURE_MIGRATION_NAMES, ScratchSchemas } from './helpers';

const PACKAGE_DIR = path.resolve(__dirname, '..');
const BIN = path.join(PACKAGE_DIR, 'bin', 'flash-db.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `flash-db` command the way npm scripts do, in `cwd`. */
function flashDb(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const schemas = new ScratchSchemas();
let service: string;

beforeAll(async () => {
  // The command runs the compiled package: build it from the current sources first.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', PACKAGE_DIR], { stdio: 'inherit' });
  await schemas.start();
  service = await mkdtemp(path.join(os.tmpdir(), 'flash-db-cli-'));
  await cp(path.join(FIXTURE_DIR, 'prisma'), path.join(service, 'prisma'), { recursive: true });
}, 120_000);

afterAll(async () => {
  await schemas.stop();
  await rm(service, { recursive: true, force: true });
});

describe('flash-db migrate', () => {
  it('when two processes start at once, then each migration is applied exactly once', async () => {
    const connection = await schemas.create();
    const env = { DATABASE_URL: schemas.urlOf(connection) };

    const runs = await Promise.all([flashDb(service, ['migrate'], env), flashDb(service, ['migrate'], env)]);

    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const applied = runs.flatMap((run) => run.stdout.split('\n').filter(Boolean));
    expect(applied.sort()).toEqual(FIXTURE_MIGRATION_NAMES);
    const rows = await schemas.query<{ migration_name: string }>(
      `SELECT migration_name FROM "${connection.schema}"._prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.map((row) => row.migration_name)).toEqual(FIXTURE_MIGRATION_NAMES);
  });

  it('when a migration is broken, then it exits 1 and names the migration', async () => {
    const connection = await schemas.create();
    const broken = await mkdtemp(path.join(os.tmpdir(), 'flash-db-cli-broken-'));
    try {
      await cp(path.join(service, 'prisma'), path.join(broken, 'prisma'), { recursive: true });
      await mkdir(path.join(broken, 'prisma', 'migrations', '20250109000000_typo'));
      await writeFile(
        path.join(broken, 'prisma', 'migrations', '20250109000000_typo', 'migration.sql'),
        'CRATE TABLE x ();\n',
      );

      const run = await flashDb(broken, ['migrate'], { DATABASE_URL: schemas.urlOf(connection) });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Migration 20250109000000_typo failed: .*syntax error/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('when DATABASE_URL is missing, then it exits 1 saying so', async () => {
    const run = await flashDb(service, ['migrate'], { DATABASE_URL: '' });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/DATABASE_URL is not set/);
  });
});

describe('flash-db new-migration', () => {
  it('when the schema has no change since HEAD, then it prints "no changes"', async () => {
    const repo = await mkdtemp(path.join(os.tmpdir(), 'flash-db-cli-git-'));
    try {
      await cp(path.join(service, 'prisma'), path.join(repo, 'prisma'), { recursive: true });
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
          cwd: repo,
          stdio: 'pipe',
        });
      git('init', '-q');
      git('add', '.');
      git('commit', '-q', '-m', 'schema');

      const run = await flashDb(repo, ['new-migration', 'nothing'], {});

      expect(run).toMatchObject({ code: 0, stdout: 'no changes\n' });
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});
