import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { parseDatabaseUrl, type DbConnection } from '../src/connection';

/**
 * Settings for the integration tests, with the defaults of `npm run infra`:
 * - `DATABASE_URL`: the role migrations run as (default `orders`/`orders` on 127.0.0.1:5432, database `flashsale_test`);
 *   its `?schema=` is ignored, every test works in a scratch schema owned by that role.
 * - `PG_ADMIN_URL`: a superuser that creates and drops the scratch schemas (default `postgres` without password).
 */
const PG_PORT = process.env.PG_PORT ?? '5432';
export const DATABASE_URL =
  process.env.DATABASE_URL ?? `postgresql://orders:orders@127.0.0.1:${PG_PORT}/flashsale_test`;
export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? `postgresql://postgres@127.0.0.1:${PG_PORT}/flashsale_test`;

/** The fixture service: a Prisma schema and two migrations. */
export const FIXTURE_DIR = path.join(__dirname, 'fixtures', 'shop');
export const FIXTURE_MIGRATIONS = path.join(FIXTURE_DIR, 'prisma', 'migrations');
export const FIXTURE_MIGRATION_NAMES = ['20250101000000_customers', '20250102000000_orders'];

/** Creates and drops throwaway schemas `db_test_<random>` owned by the `DATABASE_URL` role. */
export class ScratchSchemas {
  private readonly admin = new Client({ connectionString: PG_ADMIN_URL, application_name: 'db-tests' });
  private readonly created: string[] = [];
  private readonly base = parseDatabaseUrl(DATABASE_URL);

  async start(): Promise<void> {
    try {
      await this.admin.connect();
    } catch (error) {
      throw new Error(
        `PostgreSQL is not reachable as ${PG_ADMIN_URL} (start it with npm run infra, or set PG_ADMIN_URL/DATABASE_URL): ${(error as Error).message}`,
      );
    }
  }

  /** A new empty schema, and the connection that works in it. */
  async create(): Promise<DbConnection> {
    const schema = `db_test_${randomBytes(5).toString('hex')}`;
    await this.admin.query(`CREATE SCHEMA "${schema}" AUTHORIZATION "${this.base.user}"`);
    this.created.push(schema);
    return { ...this.base, schema };
  }

  /** The URL of `connection`, for APIs that take one. */
  urlOf(connection: DbConnection): string {
    const url = new URL(DATABASE_URL);
    url.searchParams.set('schema', connection.schema);
    return url.toString();
  }

  query<R extends object>(sql: string, values?: unknown[]): Promise<R[]> {
    return this.admin.query<R>(sql, values).then((result) => result.rows);
  }

  async stop(): Promise<void> {
    for (const schema of this.created) await this.admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await this.admin.end();
  }
}

/** A temporary copy of the fixture migrations, for tests that add migrations to it. */
export async function copyOfFixtureMigrations(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'flash-db-'));
  const dir = path.join(root, 'migrations');
  await cp(FIXTURE_MIGRATIONS, dir, { recursive: true });
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}
