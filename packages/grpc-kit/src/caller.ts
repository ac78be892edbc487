import type { Metadata } from '@grpc/grpc-js';
import { unauthenticated } from '@flash-sale/errors';

/** Who is calling, as the gateway asserted it after verifying the JWT. */
export interface Caller {
  userId: string;
  roles: readonly string[];
  isAdmin: boolean;
}

export const USER_ID_HEADER = 'x-user-id';
export const USER_ROLES_HEADER = 'x-user-roles';

export function callerMetadata(caller: Pick<Caller, 'userId' | 'roles'>, into: Metadata): Metadata {
  into.set(USER_ID_HEADER, caller.userId);
  into.set(USER_ROLES_HEADER, caller.roles.join(','));
  return into;
}

/** The caller of a call, or undefined for service-to-service calls that carry none. */
export function optionalCaller(metadata: Metadata): Caller | undefined {
  const userId = metadata.get(USER_ID_HEADER)[0];
  if (typeof userId !== 'string' || userId.length === 0) return undefined;
  const rawRoles = metadata.get(USER_ROLES_HEADER)[0];
  const roles = typeof rawRoles === 'string' ? rawRoles.split(',').filter(Boolean) : [];
  return { userId, roles, isAdmin: roles.includes('admin') };
}

export function requireCaller(metadata: Metadata): Caller {
  const caller = optionalCaller(metadata);
  if (!caller) throw unauthenticated('UNAUTHENTICATED', 'this call needs an authenticated user');
  return caller;
}
