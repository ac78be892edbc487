import type { Request, RequestHandler } from 'express';
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
  /**
   * The same per-user limit as a promise that rejects with the 429 problem, for a route that overlaps the check
   * with a Redis call of its own (the idempotency claim) instead of waiting for it first.
   */
  checkUser(req: Request): Promise<void>;
}

/** The same limits by key, for any transport: each call counts once and rejects with the 429 problem when over. */
export interface RateLimiter {
  /** One request from this client address. */
  ip(address: string): Promise<void>;
  /** One request from this authenticated user. */
  user(userId: string): Promise<void>;
}

const pass: RequestHandler = (_req, _res, next) => next();
const unlimited = async () => undefined;

/**
 * Rate limits held in Redis (rate-limiter-flexible), so every gateway replica counts against the same budget.
 * When Redis does not answer, an in-memory limiter of the same size takes over in each replica (the library's
 * insurance limiter) rather than letting everything through or refusing everything.
 */
export function rateLimiter(
  redis: Redis,
  settings: RateLimitSettings,
  logger: Logger,
  limited: (scope: 'ip' | 'user') => void,
): RateLimiter {
  const limiter = (scope: 'ip' | 'user', points: number): ((key: string) => Promise<void>) => {
    if (points === 0) return unlimited;
    const store = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `flashsale:gateway:rate:${scope}`,
      points,
      duration: 1,
      insuranceLimiter: new RateLimiterMemory({ points, duration: 1 }),
    });
    return async (key) => {
      try {
        await store.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) {
          logger.warn({ err: rejection, scope }, 'rate limiter failed; request let through');
          return;
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
    };
  };
  return { ip: limiter('ip', settings.perIpPerSecond), user: limiter('user', settings.perUserPerSecond) };
}

/** The limits as Express middleware: by `req.ip` (the peer, or the first proxy hop Express trusts) and by user. */
export function rateLimits(limiter: RateLimiter, settings: RateLimitSettings): RateLimits {
  const byIp = async (req: Request) => limiter.ip(req.ip ?? 'unknown');
  const byUser = async (req: Request) => {
    const userId = stateOf(req).principal?.userId;
    if (userId !== undefined) await limiter.user(userId);
  };
  const middleware =
    (check: (req: Request) => Promise<void>): RequestHandler =>
    async (req, _res, next) => {
      await check(req);
      next();
    };
  return {
    ip: settings.perIpPerSecond ? middleware(byIp) : pass,
    user: settings.perUserPerSecond ? middleware(byUser) : pass,
    checkUser: settings.perUserPerSecond ? byUser : unlimited,
  };
}
