import {
  ConfigError,
  databaseEnv,
  env,
  loadConfig,
  redisAuth,
  redisEnv,
  serviceEnv,
  withDatabasePassword,
  z,
} from './index';

const schema = z.object({
  GRPC_PORT: env.port(50051),
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  REDIS_URL: env.url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  JWT_SECRET: env.secret(),
});

describe('loadConfig', () => {
  it('when variables are missing, then defaults apply and the result is frozen', () => {
    const config = loadConfig(schema, { JWT_SECRET: 'x'.repeat(16) });
    expect(config).toEqual({
      GRPC_PORT: 50051,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_SECRET: 'x'.repeat(16),
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.KAFKA_BROKERS)).toBe(true);
  });

  it('when a variable is bad, then the error names it', () => {
    const attempt = () => loadConfig(schema, { GRPC_PORT: 'eighty', REDIS_URL: 'http://x', JWT_SECRET: 'short' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('GRPC_PORT');
      expect(message).toContain('REDIS_URL');
      expect(message).toContain('JWT_SECRET');
    }
  });

  it('when a list is given, then it is split and trimmed', () => {
    const config = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2,', JWT_SECRET: 'y'.repeat(16) });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });

  it('when a Kafka topic or group prefix has a character Kafka refuses, then start-up fails naming it', () => {
    const kafka = z.object({
      KAFKA_TOPIC_PREFIX: serviceEnv.KAFKA_TOPIC_PREFIX,
      KAFKA_GROUP_PREFIX: serviceEnv.KAFKA_GROUP_PREFIX,
    });
    expect(loadConfig(kafka, {})).toEqual({ KAFKA_TOPIC_PREFIX: '', KAFKA_GROUP_PREFIX: '' });
    expect(loadConfig(kafka, { KAFKA_TOPIC_PREFIX: 'staging.' }).KAFKA_TOPIC_PREFIX).toBe('staging.');
    expect(() => loadConfig(kafka, { KAFKA_TOPIC_PREFIX: 'staging/' })).toThrow(
      /KAFKA_TOPIC_PREFIX.*letters, digits, dot, dash and underscore only/,
    );
  });

  it('when the gRPC connection age is set, then 0 (never) to a day is taken, and anything else names the variable', () => {
    const grpc = z.object({ GRPC_MAX_CONNECTION_AGE_MS: serviceEnv.GRPC_MAX_CONNECTION_AGE_MS });
    expect(loadConfig(grpc, {}).GRPC_MAX_CONNECTION_AGE_MS).toBe(30_000);
    expect(loadConfig(grpc, { GRPC_MAX_CONNECTION_AGE_MS: '0' }).GRPC_MAX_CONNECTION_AGE_MS).toBe(0);
    expect(() => loadConfig(grpc, { GRPC_MAX_CONNECTION_AGE_MS: '-1' })).toThrow(/GRPC_MAX_CONNECTION_AGE_MS/);
    expect(() => loadConfig(grpc, { GRPC_MAX_CONNECTION_AGE_MS: '30s' })).toThrow(/GRPC_MAX_CONNECTION_AGE_MS/);
  });
});

describe('credentials apart from their addresses', () => {
  const database = z
    .object(databaseEnv('postgresql://orders:orders@127.0.0.1:5432/flashsale?schema=orders'))
    .transform(withDatabasePassword);

  it('when DATABASE_PASSWORD is set, then it becomes the password of DATABASE_URL, percent-encoded, and is not kept apart', () => {
    const config = loadConfig(database, {
      DATABASE_URL: 'postgresql://orders@db.internal:5432/flashsale?schema=orders',
      DATABASE_PASSWORD: 'p@ss/w:rd%?#',
    });
    expect(config).toEqual({
      DATABASE_URL: 'postgresql://orders:p%40ss%2Fw%3Ard%25%3F%23@db.internal:5432/flashsale?schema=orders',
    });
    expect(decodeURIComponent(new URL(config.DATABASE_URL).password)).toBe('p@ss/w:rd%?#');
  });

  it('when DATABASE_PASSWORD is unset or empty, then DATABASE_URL is used as given', () => {
    const url = 'postgresql://orders:orders@db:5432/flashsale?schema=orders';
    expect(loadConfig(database, { DATABASE_URL: url })).toEqual({ DATABASE_URL: url });
    expect(loadConfig(database, { DATABASE_URL: url, DATABASE_PASSWORD: '' })).toEqual({ DATABASE_URL: url });
  });

  it('when REDIS_USERNAME and REDIS_PASSWORD are set, then they become the client options, and REDIS_URL holds none', () => {
    const redis = z.object(redisEnv);
    const config = loadConfig(redis, { REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD: 's3cret', REDIS_USERNAME: '' });
    expect(config.REDIS_URL).toBe('redis://redis:6379');
    expect(redisAuth(config)).toEqual({ password: 's3cret' });
    expect(redisAuth(loadConfig(redis, { REDIS_USERNAME: 'gateway', REDIS_PASSWORD: 'x' }))).toEqual({
      username: 'gateway',
      password: 'x',
    });
    expect(redisAuth(loadConfig(redis, {}))).toEqual({});
  });
});
