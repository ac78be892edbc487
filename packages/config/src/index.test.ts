import { ConfigError, env, loadConfig, serviceEnv, z } from './index';

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
