import { commonEnv, env, loadConfig, z } from '@flash-sale/config';

const schema = z.object({
  ...commonEnv,
  HTTP_HOST: env.host(),
  HTTP_PORT: env.port(8080),
  JWT_SECRET: env.secret(),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  PROMOTION_ADDR: z.string().min(1).default('127.0.0.1:50051'),
  INVENTORY_ADDR: z.string().min(1).default('127.0.0.1:50052'),
  ORDER_ADDR: z.string().min(1).default('127.0.0.1:50053'),
  PAYMENT_ADDR: z.string().min(1).default('127.0.0.1:50054'),
  UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
  REDIS_URL: env.url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  /** How long a sold-out promotion is answered from memory before inventory is asked again. */
  SOLD_OUT_TTL_MS: env.durationMs(5_000),
  /** How long a response is replayed for a repeated Idempotency-Key. */
  IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(86_400),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/, 'must look like 16kb')
    .default('16kb'),
});

export type GatewayConfig = Readonly<z.output<typeof schema>>;

export const loadGatewayConfig = (source: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(schema, source);
