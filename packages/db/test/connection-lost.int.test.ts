import { Client, type Pool } from 'pg';
import { waitFor } from '@flash-sale/testing';
import { createPrismaAdapter } from '../src/prisma-adapter';
import { DATABASE_URL, PG_ADMIN_URL } from './helpers';

/**
 * PostgreSQL closing a connection that the pool has handed out and that is between queries: what a restart of
 * the server does to a relay holding a transaction open while Kafka answers. node-postgres emits `error` on that
 * connection; with no listener, that is an uncaught exception and the service dies (it did, in a fault run).
 */
describe('createPrismaAdapter when the server closes a checked-out connection', () => {
  it('when the connection is terminated between queries, then the error is heard, not thrown, and the pool serves on', async () => {
    const heard: Error[] = [];
    const adapter = await createPrismaAdapter(DATABASE_URL, {
      applicationName: 'connection-lost-test',
      onConnectionError: (error) => heard.push(error),
    }).connect();
    const pool = adapter.underlyingDriver() as Pool;
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      const codes = () => heard.map((error) => (error as { code?: string }).code);
      await waitFor(async () => codes().length > 0, { what: 'the lost connection to be heard', timeoutMs: 5_000 });

      expect(codes()).toContain('57P01');
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await admin.end();
      await adapter.dispose();
    }
  });
});
