import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '@flash-sale/logging';
import { clampKafkajsTimeouts } from './kafkajs-timeouts';

clampKafkajsTimeouts();

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export interface KafkaOptions {
  clientId: string;
  brokers: readonly string[];
  logger: Logger;
  /** Extra kafkajs settings (SSL, SASL) for real clusters. */
  extra?: Partial<KafkaConfig>;
}

/** A kafkajs client whose own log lines go through pino (as `component: kafkajs`) at WARN and above. */
export function createKafka({ clientId, brokers, logger, extra }: KafkaOptions): Kafka {
  const child = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        child[LEVELS[level] ?? 'info'](rest, message);
      },
    ...extra,
  });
}
