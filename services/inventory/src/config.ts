import { commonEnv, databaseUrl, env, loadConfig, serviceEnv, z } from '@flash-sale/config';

const schema = z.object({
  ...commonEnv,
  ...serviceEnv,
  GRPC_PORT: env.port(50052),
  DATABASE_URL: databaseUrl('postgresql://inventory:inventory@127.0.0.1:5432/flashsale?schema=inventory'),
  /** Outbox entries read by a relay that then went quiet for this long are taken over by another. */
  RELAY_CLAIM_IDLE_MS: env.durationMs(30_000),
  /** How often Redis counters are compared with the PostgreSQL truth (and repaired). */
  RECONCILE_INTERVAL_MS: env.durationMs(30_000),
});

export type InventoryConfig = Readonly<z.output<typeof schema>>;

export const loadInventoryConfig = (source: NodeJS.ProcessEnv = process.env): InventoryConfig =>
  loadConfig(schema, source);
