import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's config schema; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once, at start-up, against a zod object schema whose keys are variable names.
 * The result is typed and deeply frozen; nothing else in a service reads `process.env`.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Reusable variable schemas, so every service spells the common ones the same way. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  host: (fallback = '127.0.0.1') => z.string().min(1).default(fallback),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  url: (protocols: string[], fallback?: string) => {
    const base = z
      .string()
      .url()
      .refine((value) => protocols.some((p) => value.startsWith(`${p}://`)), {
        message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
      });
    return fallback === undefined ? base : base.default(fallback);
  },
  list: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1, 'must name at least one entry')),
  durationMs: (fallback: number) => z.coerce.number().int().min(0).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  secret: () => z.string().min(16, 'must be at least 16 characters'),
  /** A credential given apart from the address it is for (a Secret beside plain configuration); empty is unset. */
  credential: () =>
    z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value)),
};

/** Variables every service reads: log level, shutdown grace. */
export const commonEnv = {
  LOG_LEVEL: env.logLevel(),
  SHUTDOWN_GRACE_MS: env.durationMs(10_000),
};

export { z };
export * from './mesh';

/** The start of a Kafka topic or group name: Kafka's characters only, empty by default. */
const kafkaNamePrefix = () =>
  z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only')
    .default('');

/**
 * Redis's address and, apart from it, its credentials: REDIS_URL can then be plain configuration and the password
 * come from a Secret (see {@link redisAuth}).
 */
export const redisEnv = {
  REDIS_URL: env.url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  /** An ACL user; unset: Redis's default user. */
  REDIS_USERNAME: env.credential(),
  /** The password (AUTH); unset: none, or the one written in REDIS_URL. */
  REDIS_PASSWORD: env.credential(),
};

/** The ioredis options for REDIS_USERNAME and REDIS_PASSWORD (those in REDIS_URL, if any, win). */
export function redisAuth(config: { REDIS_USERNAME?: string | undefined; REDIS_PASSWORD?: string | undefined }): {
  username?: string;
  password?: string;
} {
  return {
    ...(config.REDIS_USERNAME === undefined ? {} : { username: config.REDIS_USERNAME }),
    ...(config.REDIS_PASSWORD === undefined ? {} : { password: config.REDIS_PASSWORD }),
  };
}

/** Variables of the gRPC services, with local defaults; each service picks the ones it uses. */
export const serviceEnv = {
  GRPC_HOST: env.host(),
  ...redisEnv,
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  /** Names this process in leases and consumer ids; Kubernetes sets it from the pod name. */
  POD_NAME: z.string().min(1).default(`local-${process.pid}`),
  /**
   * How long the broker waits for a silent consumer before it hands its partitions to others (a crashed or frozen
   * process). Within the broker's default bounds, 6 s to 5 min.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** Where a consumer group with no offsets starts: `earliest` (every event) or `end` (tests). */
  KAFKA_NEW_GROUP_START: z.enum(['earliest', 'end']).default('earliest'),
  /**
   * Prepended to every Kafka consumer group id. Empty in production; tests set a unique one so that a test run
   * never shares partitions with a locally running mesh or another run.
   */
  KAFKA_GROUP_PREFIX: kafkaNamePrefix(),
  /**
   * Prepended to every Kafka topic name, so that meshes sharing one Kafka cluster never read each other's events.
   * Empty in production; the tests, the benchmark and the fault harness each use their own (`scripts/infra.sh`
   * creates those topics, the chart's topic Job creates the release's).
   */
  KAFKA_TOPIC_PREFIX: kafkaNamePrefix(),
  /**
   * The gRPC server asks each client connection to reconnect after this long (calls in flight finish), so pods added
   * behind a headless Service get their share of the calls within about this long; 0: never.
   */
  GRPC_MAX_CONNECTION_AGE_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  /** Port of the Prometheus `/metrics` endpoint; unset: no endpoint. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Apply pending migrations at start-up (the Helm chart runs them in a Job instead and sets this false). */
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
};

/** A PostgreSQL URL naming the service's schema, e.g. postgresql://orders:orders@127.0.0.1:5432/flashsale?schema=orders. */
export const databaseUrl = (fallback: string) => env.url(['postgresql', 'postgres'], fallback);

/**
 * DATABASE_URL and, apart from it, DATABASE_PASSWORD: the URL can then be plain configuration and the password come
 * from a Secret. A schema using these ends with `.transform(withDatabasePassword)`.
 */
export const databaseEnv = (fallback: string) => ({
  DATABASE_URL: databaseUrl(fallback),
  DATABASE_PASSWORD: env.credential(),
});

/** The configuration with DATABASE_PASSWORD, when set, put into DATABASE_URL (percent-encoded: any character works). */
export function withDatabasePassword<C extends { DATABASE_URL: string; DATABASE_PASSWORD?: string | undefined }>({
  DATABASE_PASSWORD: password,
  ...config
}: C): Omit<C, 'DATABASE_PASSWORD'> {
  if (password === undefined) return config;
  const url = new URL(config.DATABASE_URL);
  url.password = encodeURIComponent(password);
  return { ...config, DATABASE_URL: url.toString() };
}
