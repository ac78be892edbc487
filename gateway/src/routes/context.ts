import type { Request } from 'express';
import type { Principal } from '../auth/jwt';
import type { CallScope } from '../upstreams';

/** What the middleware attached to a request: its id and, on authenticated routes, the caller. */
export interface RequestState {
  requestId: string;
  principal?: Principal;
}

export const stateOf = (req: Request): RequestState => (req as Request & { state: RequestState }).state;

export function principalOf(req: Request): Principal {
  const principal = stateOf(req).principal;
  if (!principal) throw new Error('route is missing its auth middleware');
  return principal;
}

export const scopeOf = (req: Request, timeoutMs: number): CallScope => {
  const state = stateOf(req);
  return { requestId: state.requestId, timeoutMs, ...(state.principal ? { principal: state.principal } : {}) };
};
