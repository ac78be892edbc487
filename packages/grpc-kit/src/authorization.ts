import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import type { MeshWorkload } from '@flash-sale/config';
import { permissionDenied } from '@flash-sale/errors';
import type { Logger } from '@flash-sale/logging';
import { callersOf, INFRASTRUCTURE_SERVICES, type AccessPolicy } from './access-policy';
import { USER_ID_HEADER, USER_ROLES_HEADER } from './caller';
import { toStatus } from './errors';
import type { MeshTransport } from './mesh-tls';
import type { MeshPeer } from './peer';

export type DenialReason = 'CALLER_NOT_ALLOWED' | 'CALLER_METADATA_REFUSED' | 'CALLER_UNKNOWN';

/** One refused call, for the caller's metrics. */
export interface Denial {
  /** `package.Service/Method`. */
  method: string;
  reason: DenialReason;
  /** The caller's workload, or `unknown`. */
  caller: MeshWorkload | 'unknown';
}

/**
 * Decides one call: who `peer` is against the allow-list for `path` (`/package.Service/Method`), and whether it may
 * speak for a user. Undefined when the call may go on.
 */
export function decide(
  policy: AccessPolicy,
  path: string,
  peer: MeshPeer | undefined,
  carriesCaller: boolean,
): { reason: DenialReason; message: string } | undefined {
  const [service = '', method = ''] = path.slice(1).split('/');
  if (!peer) return { reason: 'CALLER_UNKNOWN', message: `the caller of ${service}/${method} has no mesh identity` };
  if (carriesCaller && !policy.fronts.includes(peer.workload)) {
    return {
      reason: 'CALLER_METADATA_REFUSED',
      message: `${peer.workload} may not call on behalf of a user (${USER_ID_HEADER}, ${USER_ROLES_HEADER}); only ${policy.fronts.join(' and ')} may`,
    };
  }
  if ((INFRASTRUCTURE_SERVICES as readonly string[]).includes(service)) return undefined;
  if (callersOf(policy, service, method).has(peer.workload)) return undefined;
  return { reason: 'CALLER_NOT_ALLOWED', message: `${peer.workload} may not call ${service}/${method}` };
}

/**
 * The server interceptor that enforces the allow-list on every call, before its handler sees it: a refusal is
 * PERMISSION_DENIED with an ErrorInfo (domain `flashsale`, the reason), logged at warn and reported to `denied`.
 */
export function authorizationInterceptor(
  policy: AccessPolicy,
  transport: MeshTransport,
  logger: Logger,
  denied: (denial: Denial) => void = () => undefined,
): ServerInterceptor {
  return (descriptor, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const peer = transport.peerOf(call.getConnectionInfo(), () => call.getAuthContext().sslPeerCertificate);
            const carriesCaller = metadata.get(USER_ID_HEADER).length > 0 || metadata.get(USER_ROLES_HEADER).length > 0;
            const refusal = decide(policy, descriptor.path, peer, carriesCaller);
            if (!refusal) {
              pass(metadata);
              return;
            }
            const method = descriptor.path.slice(1);
            const caller = peer?.workload ?? 'unknown';
            logger.warn(
              { method, caller, spiffeId: peer?.spiffeId, reason: refusal.reason },
              `grpc call denied: ${refusal.message}`,
            );
            denied({ method, reason: refusal.reason, caller });
            const status = toStatus(permissionDenied(refusal.reason, refusal.message, { method, caller }));
            call.sendStatus({ ...status, details: refusal.message });
          },
        }),
    });
}
