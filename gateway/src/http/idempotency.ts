import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { httpProblem } from './problem';

/** Without its key store the gateway cannot promise exactly-once: the request is refused, to be retried. */
const unavailable = (): never => {
  throw httpProblem(503, 'UPSTREAM_UNAVAILABLE', 'the idempotency store is unavailable; try again shortly', {}, 1);
};

/** A response kept for an idempotency key, replayed when the same request comes again. */
export interface StoredResponse {
  status: number;
  body: unknown;
  location?: string;
  /** The body is a problem (sent as application/problem+json). */
  problem?: boolean;
}

export type Claim =
  /** First time: go ahead. */
  | { kind: 'new' }
  /** The same request is being served right now (a client retry that overtook the first reply): go ahead too,
   * the upstream call is itself idempotent by key. */
  | { kind: 'in-flight' }
  | { kind: 'replay'; response: StoredResponse }
  /** The key was used with a different request. */
  | { kind: 'mismatch' };

export interface IdempotencyStore {
  claim(key: string, fingerprint: string): Promise<Claim>;
  /** What `claim` would say, without taking the key: for a request about to be refused (never stored). */
  peek(key: string, fingerprint: string): Promise<Claim>;
  complete(key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  /** Forgets an attempt whose outcome must not be replayed (it failed, or may turn out differently later). */
  release(key: string): Promise<void>;
}

interface Entry {
  f: string;
  r?: StoredResponse;
}

/** What identifies "the same request": method, route and body, canonically serialised. */
export function fingerprint(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${route} ${canonicalJson(body ?? {})}`)
    .digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a key's entry (null: none) means for a request with `fingerprint`. */
function claimOf(held: string | null, fingerprint: string): Claim {
  if (held === null) return { kind: 'new' };
  const entry = JSON.parse(held) as Entry;
  if (entry.f !== fingerprint) return { kind: 'mismatch' };
  return entry.r ? { kind: 'replay', response: entry.r } : { kind: 'in-flight' };
}

/**
 * Idempotency keys in Redis, shared by every gateway replica. A claim is one `SET NX GET` (the key is taken and
 * the previous holder, if any, read in one round trip); the response is kept for `ttlSeconds` (24 h by default,
 * like the common payment APIs), an unfinished claim for `inFlightSeconds`.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = 86_400,
    private readonly inFlightSeconds = 60,
    private readonly prefix = 'flashsale:gateway:idempotency:',
  ) {}

  async claim(key: string, fingerprint: string): Promise<Claim> {
    const entry: Entry = { f: fingerprint };
    const previous = await this.redis
      .set(this.prefix + key, JSON.stringify(entry), 'EX', this.inFlightSeconds, 'NX', 'GET')
      .catch(unavailable);
    return claimOf(previous, fingerprint);
  }

  async peek(key: string, fingerprint: string): Promise<Claim> {
    return claimOf(await this.redis.get(this.prefix + key).catch(unavailable), fingerprint);
  }

  async complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const entry: Entry = { f: fingerprint, r: response };
    await this.redis.set(this.prefix + key, JSON.stringify(entry), 'EX', this.ttlSeconds).catch(unavailable);
  }

  async release(key: string): Promise<void> {
    await this.redis.del(this.prefix + key).catch(unavailable);
  }
}
