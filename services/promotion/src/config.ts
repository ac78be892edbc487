import { commonEnv, databaseUrl, env, loadConfig, meshEnv, serviceEnv, z } from '@flash-sale/config';

const schema = z.object({
  ...commonEnv,
  ...serviceEnv,
  ...meshEnv('promotion'),
  GRPC_PORT: env.port(50051),
  DATABASE_URL: databaseUrl('postgresql://promotion:promotion@127.0.0.1:5432/flashsale?schema=promotion'),
  INVENTORY_ADDR: z.string().min(1).default('127.0.0.1:50052'),
  UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
  /** Promotions opening within this time are preheated by the scheduler (besides at creation and on demand). */
  PREHEAT_LEAD_MS: env.durationMs(10 * 60_000),
  /** How often the scheduler looks for promotions to preheat. */
  PREHEAT_INTERVAL_MS: env.positiveInt(30_000),
});

export type PromotionConfig = Readonly<z.output<typeof schema>>;

export const loadPromotionConfig = (source: NodeJS.ProcessEnv = process.env): PromotionConfig =>
  loadConfig(schema, source);
