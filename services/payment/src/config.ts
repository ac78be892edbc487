import { commonEnv, databaseUrl, env, loadConfig, serviceEnv, z } from '@flash-sale/config';

const schema = z.object({
  ...commonEnv,
  ...serviceEnv,
  GRPC_PORT: env.port(50054),
  DATABASE_URL: databaseUrl('postgresql://payment:payment@127.0.0.1:5432/flashsale?schema=payment'),
  ORDER_ADDR: z.string().min(1).default('127.0.0.1:50053'),
  UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
  /** The simulated provider's answer time and decline rate (0 to 1). */
  PROVIDER_LATENCY_MS: env.durationMs(20),
  PROVIDER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
});

export type PaymentConfig = Readonly<z.output<typeof schema>>;

export const loadPaymentConfig = (source: NodeJS.ProcessEnv = process.env): PaymentConfig => loadConfig(schema, source);
