import {
  commonEnv,
  databaseEnv,
  env,
  loadConfig,
  meshEnv,
  serviceEnv,
  withDatabasePassword,
  z,
} from '@flash-sale/config';

const variables = z.object({
  ...commonEnv,
  ...serviceEnv,
  ...meshEnv('inventory'),
  GRPC_PORT: env.port(50052),
  ...databaseEnv('postgresql://inventory:inventory@127.0.0.1:5432/flashsale?schema=inventory'),
  /** Outbox entries read by a relay that then went quiet for this long are taken over by another. */
  RELAY_CLAIM_IDLE_MS: env.durationMs(30_000),
  /** How often Redis counters are compared with the PostgreSQL truth (and repaired). */
  RECONCILE_INTERVAL_MS: env.durationMs(30_000),
  /** How often a reconciliation reads every open sale's whole ledger; the passes between read what changed. */
  RECONCILE_FULL_INTERVAL_MS: env.durationMs(15 * 60_000),
  /** How far before the previous pass those passes read changes again (writers' clocks, slow commits). */
  RECONCILE_OVERLAP_MS: env.durationMs(60_000),
  /**
   * A purchase is answered once its reservation is in Kafka too (acks=all), so a Redis that loses its data cannot
   * take an accepted purchase with it; past this wait (Kafka unreachable) it is answered anyway and sent later.
   * 0 answers at once, for deployments whose Redis is durable on its own (AOF with fsync always, or WAIT).
   */
  RESERVE_DURABLE_WAIT_MS: env.durationMs(2_000),
});
const schema = variables.transform(withDatabasePassword);

export type InventoryConfig = Readonly<z.output<typeof schema>>;

export const loadInventoryConfig = (source: NodeJS.ProcessEnv = process.env): InventoryConfig =>
  loadConfig(schema, source);
