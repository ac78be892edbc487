import { commonEnv, databaseUrl, env, loadConfig, serviceEnv, z } from '@flash-sale/config';

const schema = z.object({
  ...commonEnv,
  ...serviceEnv,
  GRPC_PORT: env.port(50053),
  DATABASE_URL: databaseUrl('postgresql://orders:orders@127.0.0.1:5432/flashsale?schema=orders'),
  INVENTORY_ADDR: z.string().min(1).default('127.0.0.1:50052'),
  UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
  DATABASE_POOL_SIZE: env.positiveInt(10),
  /** How often the safety-net sweep looks for overdue orders the deadline topic missed. */
  ORDER_SWEEP_INTERVAL_MS: env.durationMs(5_000),
  /** Orders expired per sweep transaction. */
  ORDER_SWEEP_BATCH: env.positiveInt(500),
});

export type OrderConfig = Readonly<z.output<typeof schema>>;

export const loadOrderConfig = (source: NodeJS.ProcessEnv = process.env): OrderConfig => loadConfig(schema, source);
