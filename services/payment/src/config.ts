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

/** A claim commits in the order service within this or never (its CLAIM_MAX_MS). */
const ORDER_CLAIM_BOUND_MS = 5_000;

const variables = z
  .object({
    ...commonEnv,
    ...serviceEnv,
    ...meshEnv('payment'),
    ...meshEnv('payment'),
    GRPC_PORT: env.port(50054),
    ...databaseEnv('postgresql://payment:payment@127.0.0.1:5432/flashsale?schema=payment'),
    ORDER_ADDR: z.string().min(1).default('127.0.0.1:50053'),
    UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
    /** The simulated provider's answer time and decline rate (0 to 1). */
    PROVIDER_LATENCY_MS: env.durationMs(20),
    PROVIDER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    /**
     * How long Pay waits for the charge before it answers PAYING (the charge goes on, and the order becomes PAID
     * when the provider answers); keep it below the gateway's UPSTREAM_TIMEOUT_MS so the buyer hears PAYING rather
     * than a gateway timeout.
     */
    PROVIDER_TIMEOUT_MS: env.durationMs(2_500),
    /**
     * The provider as an HTTP service (for example the provider simulator, `services/payment/src/simulator`);
     * unset: the simulated provider runs inside this process (PROVIDER_LATENCY_MS, PROVIDER_FAILURE_RATE).
     */
    PAYMENT_PROVIDER_URL: env.url(['http', 'https']).optional(),
    /** A request to the HTTP provider that has not answered within this is an unknown outcome (left to recovery). */
    PROVIDER_REQUEST_TIMEOUT_MS: env.durationMs(30_000),
    /** A PENDING payment whose attempt is older than this is settled from the provider's records. */
    PAYMENT_RECOVERY_AFTER_MS: env.durationMs(60_000),
    /** How often the recovery loop looks for such payments. */
    PAYMENT_RECOVERY_INTERVAL_MS: env.durationMs(15_000),
  })
  .refine((config) => config.PAYMENT_RECOVERY_AFTER_MS > Math.max(config.PROVIDER_TIMEOUT_MS, ORDER_CLAIM_BOUND_MS), {
    path: ['PAYMENT_RECOVERY_AFTER_MS'],
    message: `must be longer than PROVIDER_TIMEOUT_MS and the order service's claim bound (${ORDER_CLAIM_BOUND_MS} ms), or recovery could settle an attempt whose claim or charge is still under way`,
  });
const schema = variables.transform(withDatabasePassword);

export type PaymentConfig = Readonly<z.output<typeof schema>>;

export const loadPaymentConfig = (source: NodeJS.ProcessEnv = process.env): PaymentConfig => loadConfig(schema, source);
