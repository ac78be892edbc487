import path from 'node:path';
import { applyMigrations } from '../src/apply-migrations';
import type { DbConnection } from '../src/connection';
import { runPrismaGenerate } from '../src/generate';
import { createDatabase, createPrismaAdapter, type SqlQuery } from '../src/prisma-adapter';
import { FIXTURE_DIR, FIXTURE_MIGRATIONS, ScratchSchemas } from './helpers';

/** The slice of the generated client this test uses (it is generated at run time, so it has no types here). */
interface ShopClient {
  customer: {
    create(args: { data: { id: bigint; email: string; orders?: { create: { id: bigint }[] } } }): Promise<unknown>;
    findUniqueOrThrow(args: { where: { id: bigint }; include: { orders: true } }): Promise<{
      email: string;
      orders: { id: bigint; status: string; note: string }[];
    }>;
  };
  $queryRaw(strings: TemplateStringsArray): Promise<{ schema: string }[]>;
  $disconnect(): Promise<void>;
}

const schemas = new ScratchSchemas();
let connection: DbConnection;

beforeAll(async () => {
  await schemas.start();
  connection = await schemas.create();
  await applyMigrations({ migrationsDir: FIXTURE_MIGRATIONS, connection });
});
afterAll(() => schemas.stop());

describe('generated Prisma client with createPrismaAdapter', () => {
  it('when prisma generate runs through runPrismaGenerate, then it succeeds without a schema-engine binary', async () => {
    const result = await runPrismaGenerate({
      cwd: FIXTURE_DIR,
      stdio: 'pipe',
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '' },
    });

    expect(result.output).toMatch(/Generated Prisma Client/);
    expect(result.exitCode).toBe(0);
  });

  it('when the client writes and reads through the adapter, then the rows live in the URL’s schema', async () => {
    const { PrismaClient } = (await import(path.join(FIXTURE_DIR, 'src', 'generated', 'prisma', 'client'))) as {
      PrismaClient: new (options: { adapter: unknown }) => ShopClient;
    };
    const prisma = new PrismaClient({ adapter: createPrismaAdapter(schemas.urlOf(connection), { max: 2 }) });
    try {
      await prisma.customer.create({ data: { id: 1n, email: 'ada@example.com', orders: { create: [{ id: 10n }] } } });

      const customer = await prisma.customer.findUniqueOrThrow({ where: { id: 1n }, include: { orders: true } });
      const [where] = await prisma.$queryRaw`SELECT current_schema() AS schema`;

      expect(customer).toMatchObject({
        email: 'ada@example.com',
        orders: [{ id: 10n, status: 'PENDING', note: 'none; yet' }],
      });
      expect(where?.schema).toBe(connection.schema);
      const rows = await schemas.query<{ email: string }>(`SELECT email FROM "${connection.schema}".customers`);
      expect(rows).toEqual([{ email: 'ada@example.com' }]);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('when plain SQL goes through createDatabase, then it runs in the URL’s schema on the pool the client uses', async () => {
    const { PrismaClient } = (await import(path.join(FIXTURE_DIR, 'src', 'generated', 'prisma', 'client'))) as {
      PrismaClient: new (options: { adapter: unknown }) => ShopClient;
    };
    const { adapter, sql } = createDatabase(schemas.urlOf(connection), { max: 1 });
    const prisma = new PrismaClient({ adapter });
    try {
      const inserted = await sql.query<{ id: string }>(
        `INSERT INTO customers (id, email) SELECT id, 'sql-' || id || '@example.com' FROM unnest($1::bigint[]) AS id
         RETURNING id::text`,
        [['21', '22']],
      );
      expect(inserted).toEqual([{ id: '21' }, { id: '22' }]);
      // One connection in the pool: Prisma reads what plain SQL wrote, and vice versa, on the same connection.
      const customer = await prisma.customer.findUniqueOrThrow({ where: { id: 22n }, include: { orders: true } });
      expect(customer.email).toBe('sql-22@example.com');
      expect(await sql.query('SELECT current_schema() AS schema', [])).toEqual([{ schema: connection.schema }]);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('when a transaction of createDatabase throws, then its writes are rolled back; when it resolves, they are committed', async () => {
    const { adapter, sql } = createDatabase(schemas.urlOf(connection), { max: 1 });
    const prisma = new (
      (await import(path.join(FIXTURE_DIR, 'src', 'generated', 'prisma', 'client'))) as {
        PrismaClient: new (options: { adapter: unknown }) => ShopClient;
      }
    ).PrismaClient({ adapter });
    const insert = (tx: SqlQuery, id: number) =>
      tx.query(`INSERT INTO customers (id, email) VALUES ($1, $2)`, [id, `tx-${id}@example.com`]);
    const emails = async () =>
      (await sql.query<{ email: string }>(`SELECT email FROM customers WHERE id IN (31, 32) ORDER BY id`, [])).map(
        (row) => row.email,
      );
    try {
      await expect(
        sql.transaction(async (tx) => {
          await insert(tx, 31);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await emails()).toEqual([]);

      await expect(sql.transaction(async (tx) => (await insert(tx, 32), 'done'))).resolves.toBe('done');
      expect(await emails()).toEqual(['tx-32@example.com']);
      // The pool's one connection came back clean: no transaction is left open on it.
      expect(await sql.query('SELECT now() = statement_timestamp() AS outside', [])).toEqual([{ outside: true }]);
    } finally {
      await prisma.$disconnect();
    }
  });
});
