import { X509Certificate } from 'node:crypto';
import { uriNames } from '@flash-sale/config';
import type { CertificatePem } from '../certificates';
import { pairProblem, usageProblem } from '../certificate-checks';

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
  return usageProblem(certificate, expected.usage);
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);
