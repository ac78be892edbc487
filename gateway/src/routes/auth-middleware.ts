import type { RequestHandler } from 'express';
import type { Access } from '../api/operations';
import { AuthError, type JwtVerifier, type Principal } from '../auth/jwt';
import { httpProblem } from '../http/problem';
import { stateOf } from './context';

export interface AuthMiddleware {
  /** Any valid token. */
  user: RequestHandler;
  /** A valid token whose roles include `admin`. */
  admin: RequestHandler;
  /** Public routes: no token is fine, but a token that is sent must be valid. */
  optional: RequestHandler;
}

/**
 * Who calls an operation of the given access, from its `Authorization` value: undefined for an anonymous call to a
 * public operation, else the verified principal. A refusal throws the 401 or 403 problem. The one rule for the HTTP
 * routes and the gRPC door.
 */
export async function authorize(
  verify: JwtVerifier,
  access: Access,
  authorization: string | undefined,
): Promise<Principal | undefined> {
  if (access === 'public' && authorization === undefined) return undefined;
  let principal: Principal;
  try {
    principal = await verify(authorization);
  } catch (error) {
    if (error instanceof AuthError) throw httpProblem(error.status, error.code, error.message);
    throw error;
  }
  if (access === 'admin' && !principal.isAdmin)
    throw httpProblem(403, 'FORBIDDEN', 'this operation needs the admin role');
  return principal;
}

export function authMiddleware(verify: JwtVerifier): AuthMiddleware {
  const guard =
    (access: Access): RequestHandler =>
    async (req, _res, next) => {
      const principal = await authorize(verify, access, req.get('authorization'));
      if (principal) stateOf(req).principal = principal;
      next();
    };
  return { user: guard('user'), admin: guard('admin'), optional: guard('public') };
}
