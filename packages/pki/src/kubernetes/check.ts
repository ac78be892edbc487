import { createPrivateKey, X509Certificate } from 'node:crypto';
import { uriNames } from '@flash-sale/config';
import type { CertificatePem } from '../certificates';

/** What a workload or front-door certificate must be, to be kept. */
export interface LeafExpectation {
  /** The CA that must have signed it (PEM). */
  issuerPem: string;
  /** Its one URI SAN, when it names a workload. */
  spiffeId?: string;
  /** Exactly these DNS SANs (any order). */
  dnsNames?: readonly string[];
  /** `both`: a workload's, for its server and client ends; `server`: a server's only (it names no workload). */
  usage: 'both' | 'server';
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Why a CA must be replaced, or undefined: it must outlive by `minRemainingMs` any certificate issued now. */
export function caProblem(pair: CertificatePem, now: Date, minRemainingMs: number): string | undefined {
  const problem = pairProblem(pair, now, minRemainingMs);
  if (problem) return problem;
  return new X509Certificate(pair.certPem).ca ? undefined : 'not a CA';
}

/**
 * Why a leaf certificate must be issued again, or undefined when it may be kept: unreadable, not matching its key,
 * expiring within `renewBeforeMs`, signed by another CA, naming other identities than expected (a renamed release,
 * another trust domain, other DNS names), or for other uses.
 */
export function leafProblem(
  pair: CertificatePem,
  expected: LeafExpectation,
  now: Date,
  renewBeforeMs: number,
): string | undefined {
  const problem = pairProblem(pair, now, renewBeforeMs);
  if (problem) return problem;
  const certificate = new X509Certificate(pair.certPem);
  if (!certificate.verify(new X509Certificate(expected.issuerPem).publicKey)) return 'signed by another CA';
  const names = certificate.subjectAltName ?? '';
  const uris = uriNames(names);
  const wantedUris = expected.spiffeId ? [expected.spiffeId] : [];
  if (!sameSet(uris, wantedUris)) return `names ${uris.join(' ') || 'no URI'}, not ${wantedUris.join(' ') || 'none'}`;
  const dns = [...names.matchAll(/(?:^|, )DNS:([^,]*)/g)].map((match) => match[1]!);
  if (!sameSet(dns, expected.dnsNames ?? [])) return `names the DNS names ${dns.join(' ') || '(none)'}`;
  const usages = certificate.keyUsage ?? [];
  if (!usages.includes(SERVER_AUTH)) return 'not for servers';
  const client = usages.includes(CLIENT_AUTH);
  if (expected.usage === 'server' && client) return 'usable as a client certificate';
  if (expected.usage === 'both' && !client) return 'not for clients';
  return undefined;
}

/** The checks a CA and a leaf share: readable, key matches, valid now and for at least `minRemainingMs` more. */
function pairProblem(pair: CertificatePem, now: Date, minRemainingMs: number): string | undefined {
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
  if (left <= minRemainingMs) return `expires in ${Math.floor(left / 86_400_000)} days`;
  return undefined;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);
