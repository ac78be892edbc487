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
  ...meshEnv('promotion'),
  GRPC_PORT: env.port(50051),
  ...databaseEnv('postgresql://promotion:promotion@127.0.0.1:5432/flashsale?schema=promotion'),
  INVENTORY_ADDR: z.string().min(1).default('127.0.0.1:50052'),
  UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
  /** Promotions opening within this time are preheated by the scheduler (besides at creation and on demand). */
  PREHEAT_LEAD_MS: env.durationMs(10 * 60_000),
  /** How often the scheduler looks for promotions to preheat. */
  PREHEAT_INTERVAL_MS: env.positiveInt(30_000),
});
const schema = variables.transform(withDatabasePassword);

export type PromotionConfig = Readonly<z.output<typeof schema>>;

export const loadPromotionConfig = (source: NodeJS.ProcessEnv = process.env): PromotionConfig =>
  loadConfig(schema, source);
