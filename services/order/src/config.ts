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
  ...meshEnv('order'),
  GRPC_PORT: env.port(50053),
  ...databaseEnv('postgresql://orders:orders@127.0.0.1:5432/flashsale?schema=orders'),
  INVENTORY_ADDR: z.string().min(1).default('127.0.0.1:50052'),
  UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
  DATABASE_POOL_SIZE: env.positiveInt(10),
  /** How often the safety-net sweep looks for overdue orders the deadline topic missed. */
  ORDER_SWEEP_INTERVAL_MS: env.durationMs(5_000),
  /** Partitions of order.requested and payment.events written at once, each batch in its own transaction. */
  ORDER_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(12).default(4),
  /**
   * on: an in-process alarm brings the sweep forward to the earliest known deadline (within the sweep interval),
   * so an order expires on time even behind a longer deadline on its partition of the deadline topic. off: the
   * deadline topic and the periodic sweep alone (tests of the topic use it).
   */
  ORDER_DEADLINE_ALARM: z.enum(['on', 'off']).default('on'),
  /** Orders expired per sweep transaction. */
  ORDER_SWEEP_BATCH: env.positiveInt(500),
});
const schema = variables.transform(withDatabasePassword);

export type OrderConfig = Readonly<z.output<typeof schema>>;

export const loadOrderConfig = (source: NodeJS.ProcessEnv = process.env): OrderConfig => loadConfig(schema, source);
