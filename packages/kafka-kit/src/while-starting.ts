import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaJSError } from 'kafkajs';
import type { Logger } from '@flash-sale/logging';
import { Backoff } from './backoff';

/**
 * Runs a kafkajs admin call again while the broker answers with an error kafkajs marks retriable, which a freshly
 * started broker does for a while ("not the correct coordinator", "coordinator is loading"): kafkajs retries its
 * consumers and producers itself, but not every admin call. Any other error, or a retriable one after `attempts`
 * tries, is thrown.
 */
export async function whileStarting<T>(
  what: string,
  call: () => Promise<T>,
  logger: Pick<Logger, 'warn'>,
  { attempts = 10, backoff = new Backoff(200, 2_000) } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof KafkaJSError && error.retriable) || attempt >= attempts) throw error;
      const waitMs = backoff.failed(what);
      logger.warn({ err: error, attempt, waitMs }, `${what}: the broker is not ready yet; trying again`);
      await sleep(waitMs);
    }
  }
}
