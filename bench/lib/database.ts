import { Client } from 'pg';
import { HOST } from './mesh';

const ROLES = ['promotion', 'inventory', 'orders', 'payment'];

/**
 * Where the benchmarks keep their data, never `npm start`'s (docs/operations.md, "Isolation"): a database each run recreates
 * (`BENCH_DATABASE`), and the Kafka topics behind this prefix (`scripts/infra.sh` creates them).
 */
export const BENCH_DATABASE = process.env.BENCH_DATABASE ?? 'flashsale_bench';
export const BENCH_TOPIC_PREFIX = 'bench.';

/**
 * Drops and creates `name` with the mesh's schemas (each owned by its service's role, as in
 * deploy/docker/postgres/bootstrap.sql), so a run measures its own sale, not the history of every test before it:
 * the services migrate it when they start.
 */
export async function freshDatabase(name: string): Promise<void> {
  const admin = (database: string) =>
    new Client({ host: HOST, port: Number(process.env.PG_PORT ?? 5432), user: 'postgres', database });
  const server = admin('postgres');
  await server.connect();
  try {
    await server.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await server.query(`CREATE DATABASE "${name}"`);
  } finally {
    await server.end();
  }
  const database = admin(name);
  await database.connect();
  try {
    for (const role of ROLES) await database.query(`CREATE SCHEMA "${role}" AUTHORIZATION "${role}"`);
    await database.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  } finally {
    await database.end();
  }
}
