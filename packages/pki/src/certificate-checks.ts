import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { CertificatePem } from './certificates';

const DAY_MS = 86_400_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The checks every kept certificate passes, a CA's or a leaf's, locally and in Kubernetes: readable, its key
 * matches, valid now and for at least `minRemainingMs` more. Undefined when it passes.
 */
export function pairProblem(pair: CertificatePem, now: Date, minRemainingMs: number): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.certPem);
    if (!certificate.checkPrivateKey(createPrivateKey(pair.keyPem))) return 'the key does not match the certificate';
  } catch (error) {
    return `unreadable: ${(error as Error).message}`;
  }
  if (new Date(certificate.validFrom).getTime() > now.getTime()) return 'not valid yet';
  const left = new Date(certificate.validTo).getTime() - now.getTime();
  if (left <= 0) return 'expired';
  if (left <= minRemainingMs)
    return left < DAY_MS ? 'expires within a day' : `expires in ${Math.floor(left / DAY_MS)} days`;
  return undefined;
}

/**
 * Whether a leaf is for the uses expected: `both` (a workload's, for its server and client ends) or `server` (the
 * gRPC door's, which must never call a service). Undefined when it is.
 */
export function usageProblem(certificate: X509Certificate, usage: 'both' | 'server'): string | undefined {
  const usages = certificate.keyUsage ?? [];
  if (!usages.includes(SERVER_AUTH)) return 'not for servers';
  const client = usages.includes(CLIENT_AUTH);
  if (usage === 'server' && client) return 'usable as a client certificate';
  if (usage === 'both' && !client) return 'not for clients';
  return undefined;
}
