import { join } from 'node:path';
import { commonEnv, env, LOCAL_PKI_DIR, loadConfig, meshEnv, redisEnv, z } from '@flash-sale/config';
import { isProxyAddress } from './http/trusted-proxies';

const perSecond = (fallback: number) => z.coerce.number().int().min(0).max(1_000_000).default(fallback);

const schema = z
  .object({
    ...commonEnv,
    ...meshEnv('gateway'),
    HTTP_HOST: env.host(),
    HTTP_PORT: env.port(8080),
    /** The gRPC front door for outside clients: gRPC over TLS on HTTP_HOST, at this port ... */
    GRPC_DOOR_PORT: env.port(8443),
    /** ... with the server certificate `tls.crt` and its key `tls.key` from this directory (reloaded on change). */
    GRPC_DOOR_TLS_DIR: z.string().min(1).default(join(LOCAL_PKI_DIR, 'front-door')),
    /** HS256 (a shared secret, the default) or RS256 (a public key or a JWKS file). */
    JWT_ALGORITHM: z.enum(['HS256', 'RS256']).default('HS256'),
    JWT_SECRET: env.secret().optional(),
    /** RS256: the issuer's public key, PEM (SPKI). */
    JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be a PEM public key' }).optional(),
    /** RS256: a JWKS file (`{"keys": [...]}`); the token's `kid` picks the key, so keys can rotate. */
    JWT_JWKS_FILE: z.string().min(1).optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    JWT_VERIFIED_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
    PROMOTION_ADDR: z.string().min(1).default('127.0.0.1:50051'),
    INVENTORY_ADDR: z.string().min(1).default('127.0.0.1:50052'),
    ORDER_ADDR: z.string().min(1).default('127.0.0.1:50053'),
    PAYMENT_ADDR: z.string().min(1).default('127.0.0.1:50054'),
    UPSTREAM_TIMEOUT_MS: env.durationMs(3_000),
    /** Purchases arriving together go to inventory in one ReserveBatch call of at most this many; 1: one each. */
    RESERVE_BATCH_MAX: z.coerce.number().int().min(1).max(256).default(64),
    /** ReserveBatch calls out before a partly filled batch waits for one to return; 0: never waits ... */
    RESERVE_BATCH_IN_FLIGHT: z.coerce.number().int().min(0).max(1_000).default(1),
    /** ... and the longest it waits. */
    RESERVE_BATCH_WAIT_MS: env.durationMs(25),
    /** Circuit breaker per upstream: opens at this share of failures (percent) over 10 s ... */
    CIRCUIT_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
    /** ... once this many calls were made in the window ... */
    CIRCUIT_MIN_CALLS: z.coerce.number().int().min(1).default(10),
    /** ... and lets one probe through after this long. */
    CIRCUIT_RESET_MS: env.durationMs(5_000),
    ...redisEnv,
    /** Requests per second per client address and per user, counted in Redis across replicas; 0: no limit. */
    RATE_LIMIT_IP_PER_SECOND: perSecond(1_000),
    RATE_LIMIT_USER_PER_SECOND: perSecond(20),
    /** Requests served at once before new ones are refused with 503 OVERLOADED; 0: no bound. */
    MAX_IN_FLIGHT: z.coerce.number().int().min(0).default(2_000),
    /** Browser origins allowed by CORS, comma-separated (e.g. https://shop.example); empty: CORS off. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'each must be an origin like https://shop.example'),
        ),
      ),
    /**
     * The proxies in front of the gateway whose X-Forwarded-For is believed, comma-separated: addresses, CIDR ranges
     * or loopback, linklocal, uniquelocal (an ingress controller's pods). Empty: none, and the client address is the
     * connection's peer whatever the request says.
     */
    TRUSTED_PROXIES: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((proxy) => proxy.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().refine(isProxyAddress, 'each must be an IP address or a CIDR range like 10.0.0.0/8'))),
    /** How long a sold-out promotion is answered from memory before inventory is asked again. */
    SOLD_OUT_TTL_MS: env.durationMs(5_000),
    /** How long a response is replayed for a repeated Idempotency-Key. */
    IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(86_400),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/, 'must look like 16kb')
      .default('16kb'),
  })
  .superRefine((config, context) => {
    const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (config.JWT_ALGORITHM === 'HS256' && !config.JWT_SECRET)
      problem('JWT_SECRET', 'required with JWT_ALGORITHM=HS256');
    if (config.JWT_ALGORITHM === 'RS256' && !config.JWT_PUBLIC_KEY === !config.JWT_JWKS_FILE) {
      problem('JWT_PUBLIC_KEY', 'with JWT_ALGORITHM=RS256 set exactly one of JWT_PUBLIC_KEY and JWT_JWKS_FILE');
    }
  });

export type GatewayConfig = Readonly<z.output<typeof schema>>;

export const loadGatewayConfig = (source: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(schema, source);
