import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '@flash-sale/logging';
import { stateOf } from '../routes/context';
import { httpProblem } from './problem';

export interface RateLimitSettings {
  /** Requests per second from one client address; 0 turns the limit off. */
  perIpPerSecond: number;
  /** Requests per second from one authenticated user; 0 turns the limit off. */
  perUserPerSecond: number;
}

export interface RateLimits {
  /** Limits by client address (`req.ip`: the peer, or the first proxy hop Express trusts). */
  ip: RequestHandler;
  /** Limits by the authenticated user; requests without a user pass. Goes after the auth middleware. */
  user: RequestHandler;
}

const pass: RequestHandler = (_req, _res, next) => next();

/**
 * Rate limits held in Redis (rate-limiter-flexible), so every gateway replica counts against the same budget.
 * When Redis does not answer, an in-memory limiter of the same size takes over in each replica (the library's
 * insurance limiter) rather than letting everything through or refusing everything.
 */
export function rateLimits(
  redis: Redis,
  settings: RateLimitSettings,
  logger: Logger,
  limited: (scope: 'ip' | 'user') => void,
): RateLimits {
  const limiter = (scope: 'ip' | 'user', points: number): RequestHandler => {
    if (points === 0) return pass;
    const store = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `flashsale:gateway:rate:${scope}`,
      points,
      duration: 1,
      insuranceLimiter: new RateLimiterMemory({ points, duration: 1 }),
    });
    return async (req, _res, next) => {
      const key = scope === 'ip' ? (req.ip ?? 'unknown') : stateOf(req).principal?.userId;
      if (key === undefined) return next();
      try {
        await store.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) {
          logger.warn({ err: rejection, scope }, 'rate limiter failed; request let through');
          return next();
        }
        limited(scope);
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw httpProblem(
          429,
          'RATE_LIMITED',
          `too many requests from this ${scope === 'ip' ? 'address' : 'user'}`,
          {},
          retryAfter,
        );
      }
      next();
    };
  };
  return { ip: limiter('ip', settings.perIpPerSecond), user: limiter('user', settings.perUserPerSecond) };
}
