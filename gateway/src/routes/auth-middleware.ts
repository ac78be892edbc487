import type { RequestHandler } from 'express';
import { AuthError, type JwtVerifier } from '../auth/jwt';
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

export function authMiddleware(verify: JwtVerifier): AuthMiddleware {
  const authenticate = async (authorization: string | undefined) => {
    try {
      return await verify(authorization);
    } catch (error) {
      if (error instanceof AuthError) throw httpProblem(error.status, error.code, error.message);
      throw error;
    }
  };
  return {
    user: async (req, _res, next) => {
      stateOf(req).principal = await authenticate(req.get('authorization'));
      next();
    },
    admin: async (req, _res, next) => {
      const principal = await authenticate(req.get('authorization'));
      if (!principal.isAdmin) throw httpProblem(403, 'FORBIDDEN', 'this route needs the admin role');
      stateOf(req).principal = principal;
      next();
    },
    optional: async (req, _res, next) => {
      const header = req.get('authorization');
      if (header !== undefined) stateOf(req).principal = await authenticate(header);
      next();
    },
  };
}
