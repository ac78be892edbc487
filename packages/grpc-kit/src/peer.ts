import type { PeerCertificate, TLSSocket } from 'node:tls';
import { spiffeIdFor, spiffeIdIn, workloadOf, type MeshWorkload, type SpiffeNaming } from '@flash-sale/config';

/** A caller proven by its certificate: a workload of this mesh. */
export interface MeshPeer {
  workload: MeshWorkload;
  spiffeId: string;
}

/** Why a connection was refused: a stable reason (for logs and alerts) and a sentence for people. */
export interface PeerRefusal {
  reason:
    | 'NO_CLIENT_CERTIFICATE'
    | 'CERTIFICATE_EXPIRED'
    | 'CERTIFICATE_NOT_YET_VALID'
    | 'UNTRUSTED_CERTIFICATE'
    | 'CERTIFICATE_REJECTED'
    | 'NO_SPIFFE_ID'
    | 'NOT_A_MESH_WORKLOAD'
    | 'NOT_HTTP2';
  message: string;
  /** The SPIFFE ID or subject the certificate names, when it has one. */
  presented?: string;
}

/** OpenSSL's verdicts that mean "not signed by a CA we trust". */
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * Decides a client connection right after its TLS handshake, before any call on it is read: the certificate must
 * chain to the mesh CA (checked by OpenSSL; `socket.authorized`), be within its validity, and name one SPIFFE ID
 * that is a workload of this mesh.
 */
export function checkPeer(socket: TLSSocket, naming: SpiffeNaming): { peer: MeshPeer } | { refusal: PeerRefusal } {
  const certificate = socket.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) {
    return refusal('NO_CLIENT_CERTIFICATE', 'the client presented no certificate');
  }
  let spiffeId: string | undefined;
  try {
    spiffeId = spiffeIdIn(certificate.subjectaltname);
  } catch (error) {
    return refusal('NO_SPIFFE_ID', (error as Error).message, describe(certificate));
  }
  const presented = spiffeId ?? describe(certificate);
  if (!socket.authorized) {
    const code = String(socket.authorizationError);
    if (code === 'CERT_HAS_EXPIRED') {
      return refusal('CERTIFICATE_EXPIRED', `the client certificate expired at ${certificate.valid_to}`, presented);
    }
    if (code === 'CERT_NOT_YET_VALID') {
      return refusal(
        'CERTIFICATE_NOT_YET_VALID',
        `the client certificate is valid from ${certificate.valid_from}`,
        presented,
      );
    }
    if (UNTRUSTED.has(code)) {
      const issuer = certificate.issuer?.CN ?? 'an unknown issuer';
      return refusal(
        'UNTRUSTED_CERTIFICATE',
        `the client certificate is not signed by the mesh CA (issuer ${issuer}; ${code})`,
        presented,
      );
    }
    return refusal('CERTIFICATE_REJECTED', `the client certificate failed verification (${code})`, presented);
  }
  if (!spiffeId) return refusal('NO_SPIFFE_ID', 'the client certificate names no SPIFFE ID', presented);
  const workload = workloadOf(naming, spiffeId);
  if (!workload) {
    const expected = spiffeIdFor(naming, '<workload>');
    return refusal('NOT_A_MESH_WORKLOAD', `${spiffeId} is not a workload of this mesh (${expected})`, presented);
  }
  if (socket.alpnProtocol !== 'h2') {
    return refusal('NOT_HTTP2', 'the client did not negotiate HTTP/2 (ALPN h2), which gRPC needs', presented);
  }
  return { peer: { workload, spiffeId } };
}

const refusal = (reason: PeerRefusal['reason'], message: string, presented?: string) => ({
  refusal: { reason, message, ...(presented ? { presented } : {}) },
});

const describe = (certificate: PeerCertificate) =>
  certificate.subject?.CN ? `CN=${certificate.subject.CN}` : undefined;
