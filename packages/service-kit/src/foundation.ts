import { Redis, type RedisOptions } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import { redisAuth } from '@flash-sale/config';
import { descriptorSetPath } from '@flash-sale/contracts';
import { applyMigrations, parseDatabaseUrl, type DbConnection } from '@flash-sale/db';
import type { MeshConfig, MeshWorkload } from '@flash-sale/config';
import {
  authorizationInterceptor,
  checkServedServices,
  GrpcMetrics,
  loadAccessPolicy,
  meshTransport,
  ShutdownSequence,
  startGrpcServer,
  type AccessPolicy,
  type MeshTransport,
  type ServiceBinding,
} from '@flash-sale/grpc-kit';
import { leaseSnowflake, type Snowflake } from '@flash-sale/ids';
import { connectProducer, createKafka, topicNames, type TopicNames } from '@flash-sale/kafka-kit';
import { createLogger, type Logger } from '@flash-sale/logging';
import { Counter, type Registry } from 'prom-client';
import { metricsPortOf } from './metrics-server';
import { servingState } from './probes';

/** The variables every service's config has (see `serviceEnv` and `meshEnv` in @flash-sale/config). */
export interface FoundationConfig extends MeshConfig {
  LOG_LEVEL: string;
  DATABASE_URL: string;
  MIGRATE_ON_START: boolean;
  REDIS_URL: string;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  POD_NAME: string;
  GRPC_HOST: string;
  GRPC_PORT: number;
  GRPC_MAX_CONNECTION_AGE_MS: number;
  SHUTDOWN_GRACE_MS: number;
}

/**
 * What every service starts with: its logger, its mesh transport (mTLS with its certificate, or plaintext) and the
 * allow-list it enforces, its database migrated, Redis, a Snowflake generator, a stop list.
 */
export interface Foundation {
  name: MeshWorkload;
  logger: Logger;
  transport: MeshTransport;
  /** The allow-list; none with MTLS_MODE=off (nothing is authorized then). */
  policy?: AccessPolicy;
  connection: DbConnection;
  redis: Redis;
  ids: Snowflake;
  shutdown: ShutdownSequence;
}

export interface RunningService {
  port: number;
  /** Where `/metrics` is served (METRICS_PORT, or the free port 0 gave); undefined without METRICS_PORT. */
  metricsPort?: number;
  stop(): Promise<void>;
}

/**
 * The start-up steps shared by every composition root, in order: logger, the certificates and the allow-list (so a
 * missing file fails at once), migrations (unless the deployment runs them as a Job), Redis, and a Snowflake worker
 * id leased in Redis. Each step registers its own shutdown.
 */
export async function startFoundation(
  name: MeshWorkload,
  config: FoundationConfig,
  migrationsDir: string,
  redisOptions: RedisOptions = {},
): Promise<Foundation> {
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  const policy = config.MTLS_MODE === 'on' ? loadAccessPolicy(config.ACCESS_POLICY_FILE) : undefined;
  const transport = meshTransport(config, name, logger);
  const shutdown = new ShutdownSequence(logger);
  shutdown.add('certificate reloads', () => transport.close());
  const connection = parseDatabaseUrl(config.DATABASE_URL);
  if (config.MIGRATE_ON_START) await applyMigrations({ migrationsDir, connection, logger });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, ...redisAuth(config), ...redisOptions });
  shutdown.add('redis', () => redis.disconnect());
  const { ids, lease } = await leaseSnowflake(redis, `${name}:${config.POD_NAME}`, (workerId) =>
    logger.error({ workerId }, 'Snowflake worker lease lost; ids fail until a free one is leased again'),
  );
  shutdown.add('worker lease', () => lease.release());
  return { name, logger, transport, ...(policy ? { policy } : {}), connection, redis, ids, shutdown };
}

/** What `connectKafka` reads from a service's configuration. */
export interface KafkaConfig {
  KAFKA_BROKERS: readonly string[];
  POD_NAME: string;
  KAFKA_TOPIC_PREFIX: string;
}

/**
 * A kafkajs client and a connected idempotent producer, disconnected on shutdown, with the names of the topics
 * this mesh uses (behind `KAFKA_TOPIC_PREFIX`).
 */
export async function connectKafka(
  foundation: Foundation,
  config: KafkaConfig,
): Promise<{ kafka: Kafka; producer: Producer; topics: TopicNames }> {
  const kafka = createKafka({
    clientId: `${foundation.name}-${config.POD_NAME}`,
    brokers: config.KAFKA_BROKERS,
    logger: foundation.logger,
  });
  const producer = await connectProducer(kafka);
  foundation.shutdown.add('kafka producer', () => producer.disconnect());
  return { kafka, producer, topics: topicNames(config.KAFKA_TOPIC_PREFIX) };
}

/**
 * Starts serving gRPC last, so the server's shutdown (stop taking work) runs first. With mTLS, every call is checked
 * against the allow-list before its handler runs. Every call, refused or not, is counted in `registry` (the service's
 * metrics: gRPC RED, and the allow-list's refusals).
 */
export async function serve(
  foundation: Foundation,
  config: FoundationConfig,
  services: ServiceBinding[],
  registry?: Registry,
): Promise<RunningService> {
  const { logger, policy, transport } = foundation;
  const interceptors = [];
  if (policy) {
    checkServedServices(policy, config.ACCESS_POLICY_FILE, foundation.name, services);
    const denied = new Counter({
      name: 'grpc_server_authorization_denied_total',
      help: 'gRPC calls refused by the allow-list, by method, reason and calling workload (unknown: none of the mesh)',
      labelNames: ['method', 'reason', 'caller'] as const,
      registers: registry ? [registry] : [],
    });
    interceptors.push(authorizationInterceptor(policy, transport, logger, (denial) => denied.inc(denial)));
    logger.info({ policy: config.ACCESS_POLICY_FILE }, 'gRPC calls are authorized by the allow-list');
  }
  const server = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    descriptorSetPath,
    logger,
    services,
    maxConnectionAgeMs: config.GRPC_MAX_CONNECTION_AGE_MS,
    transport,
    interceptors,
    ...(registry ? { metrics: GrpcMetrics.of(registry) } : {}),
  });
  servingState(foundation).follow(server.health);
  foundation.shutdown.add('grpc server', () => server.shutdown(config.SHUTDOWN_GRACE_MS));
  return { port: server.port, metricsPort: metricsPortOf(foundation), stop: foundation.shutdown.run };
}

/** What a service's PostgreSQL pool does with a connection the server closed: log it (the pool replaces it). */
export const lostConnection = (logger: Logger) => (error: Error) =>
  logger.warn({ err: error }, 'PostgreSQL closed a pooled connection; the pool will open another');
