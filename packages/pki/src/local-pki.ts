import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_SPIFFE, MESH_WORKLOADS, spiffeIdFor, type SpiffeNaming } from '@flash-sale/config';
import { createCa, issueCertificate, spiffeIdOf, type CertificatePem } from './certificates';
import { pairProblem, usageProblem } from './certificate-checks';
import { withLock } from './lock';

/** The gateway's gRPC front door: a server certificate for outside clients on this machine. */
export const FRONT_DOOR = 'front-door';
const FRONT_DOOR_DNS = ['localhost'];
const FRONT_DOOR_IPS = ['127.0.0.1'];

const DAY_MS = 86_400_000;

export interface InitOptions {
  dir: string;
  naming?: SpiffeNaming;
  /** Validity of new workload certificates, in days. */
  days?: number;
  /** Validity of a new CA, in days. */
  caDays?: number;
  /** Now, for the validity checks (tests). */
  now?: Date;
}

export interface InitEntry {
  /** `ca`, a workload, or `front-door`. */
  name: string;
  action: 'kept' | 'issued';
  /** Why it was issued (absent when kept). */
  reason?: string;
}

/**
 * Makes `dir` hold one CA (`ca.crt`, `ca.key` mode 0600) and, for each workload and the front door,
 * `<name>/{tls.crt,tls.key,ca.crt}` in the Kubernetes TLS Secret layout. Idempotent: a certificate that is valid
 * for more than a day, chains to the CA and names what it should is kept; anything else is issued again (all of
 * them when the CA itself is). Files are replaced whole (written aside, then renamed), so a process that reloads
 * them never reads half of one; concurrent runs on one directory take turns.
 */
export async function initPki(options: InitOptions): Promise<InitEntry[]> {
  const { dir, naming = LOCAL_SPIFFE, days = 365, caDays = 3650 } = options;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLock(join(dir, '.lock'), async () => {
    const now = options.now ?? new Date();
    const entries: InitEntry[] = [];
    let ca = readPair(join(dir, 'ca.crt'), join(dir, 'ca.key'));
    const caProblem = ca ? problemOf(ca, now, { ca: true }) : 'missing';
    if (caProblem) {
      ca = await createCa({ commonName: `flash-sale mesh CA (${naming.trustDomain})`, days: caDays });
      writeAtomically(join(dir, 'ca.key'), ca.keyPem, 0o600);
      writeAtomically(join(dir, 'ca.crt'), ca.certPem, 0o644);
      entries.push({ name: 'ca', action: 'issued', reason: caProblem });
    } else {
      entries.push({ name: 'ca', action: 'kept' });
    }
    const leaves = [
      ...MESH_WORKLOADS.map((workload) => ({ name: workload, spiffeId: spiffeIdFor(naming, workload) })),
      // A server's certificate only: it names no workload, and cannot be used to call one.
      { name: FRONT_DOOR, dnsNames: FRONT_DOOR_DNS, ipAddresses: FRONT_DOOR_IPS, usage: 'server' as const },
    ];
    for (const leaf of leaves) {
      const folder = join(dir, leaf.name);
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const current = readPair(join(folder, 'tls.crt'), join(folder, 'tls.key'));
      const problem = !current ? 'missing' : caProblem ? 'new CA' : problemOf(current, now, { issuer: ca!, ...leaf });
      if (problem) {
        const issued = await issueCertificate({ ca: ca!, commonName: leaf.name, days, ...leaf });
        writeAtomically(join(folder, 'tls.key'), issued.keyPem, 0o600);
        writeAtomically(join(folder, 'tls.crt'), issued.certPem, 0o644);
        entries.push({ name: leaf.name, action: 'issued', reason: problem });
      } else {
        entries.push({ name: leaf.name, action: 'kept' });
      }
      if (readText(join(folder, 'ca.crt')) !== ca!.certPem) writeAtomically(join(folder, 'ca.crt'), ca!.certPem, 0o644);
    }
    return entries;
  });
}

interface Expected {
  ca?: boolean;
  issuer?: CertificatePem;
  spiffeId?: string;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  usage?: 'both' | 'server';
}

/** Why a certificate must be issued again, or undefined when it may be kept. */
function problemOf(pair: CertificatePem, now: Date, expected: Expected): string | undefined {
  const problem = pairProblem(pair, now, DAY_MS);
  if (problem) return problem;
  const certificate = new X509Certificate(pair.certPem);
  if (expected.ca !== undefined && certificate.ca !== expected.ca) return 'not a CA';
  if (expected.issuer && !certificate.verify(new X509Certificate(expected.issuer.certPem).publicKey)) {
    return 'signed by another CA';
  }
  if (expected.spiffeId !== undefined && spiffeIdOf(pair.certPem) !== expected.spiffeId) {
    return `does not name ${expected.spiffeId}`;
  }
  const usage = expected.issuer ? usageProblem(certificate, expected.usage ?? 'both') : undefined;
  if (usage) return usage;
  for (const name of expected.dnsNames ?? []) if (!certificate.checkHost(name)) return `does not name ${name}`;
  for (const ip of expected.ipAddresses ?? []) if (!certificate.checkIP(ip)) return `does not name ${ip}`;
  return undefined;
}

function readPair(certFile: string, keyFile: string): CertificatePem | undefined {
  const certPem = readText(certFile);
  const keyPem = readText(keyFile);
  return certPem && keyPem ? { certPem, keyPem } : undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function writeAtomically(file: string, text: string, mode: number): void {
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, text, { mode });
  chmodSync(aside, mode);
  renameSync(aside, file);
}
