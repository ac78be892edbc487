import { errors, jwtVerify } from 'jose';

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

export interface JwtVerifierOptions {
  secret: string;
  clockToleranceSeconds: number;
  issuer?: string;
  audience?: string;
}

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

/** Verifies `Authorization: Bearer <JWT>` (HS256) and returns the principal, or throws a 401 AuthError. */
export function createJwtVerifier(options: JwtVerifierOptions) {
  const key = new TextEncoder().encode(options.secret);
  return async (authorization: string | undefined): Promise<Principal> => {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (!match) throw new AuthError(401, 'UNAUTHENTICATED', 'missing or malformed Authorization: Bearer token');
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['HS256'],
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
