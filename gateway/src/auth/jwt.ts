import { createSecretKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';

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
}

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

/** Verifies `Authorization: Bearer <JWT>` and returns the principal, or throws a 401 AuthError. */
export function createJwtVerifier(options: JwtVerifierOptions) {
  const { algorithm } = options.key;
  // An HS256 secret as a KeyObject made once: given bytes, jose makes a new KeyObject for every token it verifies.
  const key = options.key.algorithm === 'HS256' ? createSecretKey(Buffer.from(options.key.secret)) : options.key.key;
  return async (authorization: string | undefined): Promise<Principal> => {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (!match) throw new AuthError(401, 'UNAUTHENTICATED', 'missing or malformed Authorization: Bearer token');
    try {
      const { payload } = await jwtVerify(match[1]!, key as Parameters<typeof jwtVerify>[1], {
        algorithms: [algorithm],
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      });
      const userId = payload.sub ?? '';
      if (!USER_ID.test(userId)) throw new AuthError(401, 'INVALID_TOKEN', 'token subject is not a valid user id');
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((role): role is string => typeof role === 'string')
        : [];
      return { userId, roles, isAdmin: roles.includes('admin') };
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof errors.JWTExpired) throw new AuthError(401, 'TOKEN_EXPIRED', 'token has expired');
      throw new AuthError(401, 'INVALID_TOKEN', 'token is invalid');
    }
  };
}

export type JwtVerifier = ReturnType<typeof createJwtVerifier>;
