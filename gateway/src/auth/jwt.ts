import { createSecretKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { LRUCache } from 'lru-cache';

/** The authenticated caller: `sub` is the user id; `roles` containing `admin` unlocks admin routes. */
export interface Principal {
  userId: string;
  roles: string[];
  isAdmin: boolean;
}

export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** What checks a token's signature: an HS256 secret, an RS256 public key, or a JWKS (keys picked by `kid`). */
export type VerificationKey =
  { algorithm: 'HS256'; secret: string } | { algorithm: 'RS256'; key: KeyLike | JWTVerifyGetKey };

export interface JwtKeySettings {
  JWT_ALGORITHM: 'HS256' | 'RS256';
  JWT_SECRET?: string | undefined;
  JWT_PUBLIC_KEY?: string | undefined;
  JWT_JWKS_FILE?: string | undefined;
}

/** The verification key the configuration names (a PEM public key, or a JWKS file read once at start-up). */
export async function verificationKey(settings: JwtKeySettings): Promise<VerificationKey> {
  if (settings.JWT_ALGORITHM === 'HS256') return { algorithm: 'HS256', secret: settings.JWT_SECRET! };
  if (settings.JWT_PUBLIC_KEY) return { algorithm: 'RS256', key: await importSPKI(settings.JWT_PUBLIC_KEY, 'RS256') };
  const jwks = JSON.parse(await readFile(settings.JWT_JWKS_FILE!, 'utf8')) as Parameters<typeof createLocalJWKSet>[0];
  return { algorithm: 'RS256', key: createLocalJWKSet(jwks) };
}

export interface JwtVerifierOptions {
  key: VerificationKey;
  clockToleranceSeconds: number;
  issuer?: string;
  audience?: string;
  /** Tokens whose verification is remembered (0: none); see `createJwtVerifier`. */
  cacheSize?: number;
  /** The clock, ms since the epoch (tests). */
  now?: () => number;
}

/** How long a verified token is trusted without checking its signature again, at most (its `exp` still applies). */
export const VERIFIED_TOKEN_TTL_MS = 60_000;

/** What a verified token stands for, and until when (ms, tolerance included) it may be used. */
interface Verified {
  principal: Principal;
  usableFrom: number;
  usableUntil: number;
}

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

/**
 * Verifies `Authorization: Bearer <JWT>` and returns the principal, or throws a 401 AuthError.
 *
 * A token that passed is remembered (the `cacheSize` most recent, for at most VERIFIED_TOKEN_TTL_MS and never past
 * its own `exp` or before its `nbf`): a buyer pressing buy again after a sell-out presents the same token, and its
 * signature check (an HMAC, or an RSA verification for an identity provider's tokens) was about an eighth of the
 * gateway's CPU per request. The key is the whole token, signature included, so only the very bytes that were
 * verified are trusted again; failures are never remembered.
 */
export function createJwtVerifier(options: JwtVerifierOptions) {
  const { algorithm } = options.key;
  // An HS256 secret as a KeyObject made once: given bytes, jose makes a new KeyObject for every token it verifies.
  const key = options.key.algorithm === 'HS256' ? createSecretKey(Buffer.from(options.key.secret)) : options.key.key;
  const now = options.now ?? Date.now;
  const tolerance = options.clockToleranceSeconds * 1000;
  const verified = options.cacheSize
    ? new LRUCache<string, Verified>({ max: options.cacheSize, ttl: VERIFIED_TOKEN_TTL_MS, perf: { now } })
    : undefined;
  const check = async (token: string): Promise<Verified> => {
    try {
      const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        algorithms: [algorithm],
        clockTolerance: options.clockToleranceSeconds,
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'exp'],
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      });
      const userId = payload.sub ?? '';
      if (!USER_ID.test(userId)) throw new AuthError(401, 'INVALID_TOKEN', 'token subject is not a valid user id');
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((role): role is string => typeof role === 'string')
        : [];
      // Frozen: a remembered principal is handed to every later request with the token.
      return {
        principal: Object.freeze({ userId, roles: Object.freeze(roles) as string[], isAdmin: roles.includes('admin') }),
        usableFrom: payload.nbf === undefined ? -Infinity : payload.nbf * 1000 - tolerance,
        usableUntil: payload.exp! * 1000 + tolerance,
      };
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof errors.JWTExpired) throw new AuthError(401, 'TOKEN_EXPIRED', 'token has expired');
      throw new AuthError(401, 'INVALID_TOKEN', 'token is invalid');
    }
  };
  return async (authorization: string | undefined): Promise<Principal> => {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (!match) throw new AuthError(401, 'UNAUTHENTICATED', 'missing or malformed Authorization: Bearer token');
    const token = match[1]!;
    const known = verified?.get(token);
    const at = now();
    // Outside its window the token is verified again, which gives the same answer (expired) as the first time.
    if (known && at >= known.usableFrom && at < known.usableUntil) return known.principal;
    const fresh = await check(token);
    verified?.set(token, fresh);
    return fresh.principal;
  };
}

export type JwtVerifier = ReturnType<typeof createJwtVerifier>;
