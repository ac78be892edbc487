import { commonEnv, databaseUrl, env, loadConfig, serviceEnv, z } from '@flash-sale/config';

const schema = z
  .object({
    ...commonEnv,
    ...serviceEnv,
    GRPC_PORT: env.port(50054),
    DATABASE_URL: databaseUrl('postgresql://payment:payment@127.0.0.1:5432/flashsale?schema=payment'),
    ORDER_ADDR: z.string().min(1).default('127.0.0.1:50053'),
    UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
    /** The simulated provider's answer time and decline rate (0 to 1). */
    PROVIDER_LATENCY_MS: env.durationMs(20),
    PROVIDER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    /**
     * A charge the provider has not answered within this is left PENDING (the buyer hears 503, may retry); keep
     * it below the gateway's UPSTREAM_TIMEOUT_MS so the buyer hears that rather than a gateway timeout.
     */
    PROVIDER_TIMEOUT_MS: env.durationMs(2_500),
    /** A PENDING payment whose attempt is older than this is settled from the provider's records. */
    PAYMENT_RECOVERY_AFTER_MS: env.durationMs(60_000),
    /** How often the recovery loop looks for such payments. */
    PAYMENT_RECOVERY_INTERVAL_MS: env.durationMs(15_000),
  })
  .refine((config) => config.PAYMENT_RECOVERY_AFTER_MS > config.PROVIDER_TIMEOUT_MS, {
    path: ['PAYMENT_RECOVERY_AFTER_MS'],
    message: 'must be longer than PROVIDER_TIMEOUT_MS, or recovery would settle charges still in flight',
  });

export type PaymentConfig = Readonly<z.output<typeof schema>>;

export const loadPaymentConfig = (source: NodeJS.ProcessEnv = process.env): PaymentConfig => loadConfig(schema, source);
