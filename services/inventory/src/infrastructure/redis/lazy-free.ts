import type { Logger } from '@flash-sale/logging';
import type { Redis } from 'ioredis';

/**
 * Redis settings under which a finished sale's big hashes (a million fields at full size) are freed on a background
 * thread. Without them an expiry or a delete of such a hash holds every command for up to a second.
 */
export const LAZY_FREE = ['lazyfree-lazy-expire', 'lazyfree-lazy-server-del', 'lazyfree-lazy-user-del'] as const;

/**
 * Warns when Redis frees big values inline; never fails: managed Redis often refuses CONFIG, and the service works
 * either way, only with longer pauses when a big sale's keys expire.
 */
export async function checkLazyFree(redis: Redis, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'lazyfree-lazy-*')) as string[];
    const settings = new Map<string, string>();
    for (let i = 0; i + 1 < reply.length; i += 2) settings.set(reply[i]!, reply[i + 1]!);
    const off = LAZY_FREE.filter((name) => settings.get(name) !== 'yes');
    if (off.length > 0) {
      logger.warn({ off }, 'Redis frees big values inline: set these to yes (docs/operations.md, Redis)');
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not read Redis lazy-free settings (CONFIG refused?): set them to yes');
  }
}
