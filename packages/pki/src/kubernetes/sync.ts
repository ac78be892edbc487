import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate, type CertificatePem } from '../certificates';
import type { Secret, SecretsApi } from './api';
import { caProblem, leafProblem } from './check';
import type { Plan } from './plan';

const DAY_MS = 86_400_000;
const TLS = 'kubernetes.io/tls';
/** In the CA's Secret: the CA it replaced, trusted beside it until it expires (see syncSecrets). */
const PREVIOUS_CA = 'previous.crt';

export interface SyncEntry {
  secret: string;
  action: 'kept' | 'issued' | 'updated' | 'deleted' | 'absent';
  /** Why it was issued or updated. */
  reason?: string;
}

/**
 * Makes the namespace hold the plan's CA and certificates, keeping every one that is still good (see caProblem and
 * leafProblem) so an upgrade changes nothing that works. A new CA reissues every certificate. Every `ca.crt` is the
 * trust bundle: the CA, plus the CA it replaced until that one expires, so that pods which have not yet reloaded
 * their new certificate (kubelet refreshes Secret volumes within about a minute) are still accepted meanwhile.
 */
export async function syncSecrets(api: SecretsApi, plan: Plan, now = new Date()): Promise<SyncEntry[]> {
  const entries: SyncEntry[] = [];
  const caSecret = await api.get(plan.ca.secret);
  const current = pairOf(caSecret);
  const problem = current ? caProblem(current, now, (plan.days + plan.renewDays) * DAY_MS) : 'missing';
  let ca: CertificatePem;
  let previous: string | undefined;
  if (problem) {
    ca = await createCa({ commonName: plan.ca.commonName, days: plan.ca.days });
    previous = current && validCertificate(current.certPem, now) ? current.certPem : undefined;
    await write(api, plan, plan.ca.secret, caSecret, caData(ca, previous));
    entries.push({ secret: plan.ca.secret, action: 'issued', reason: problem });
  } else {
    ca = current!;
    previous = text(caSecret, PREVIOUS_CA);
    if (previous !== undefined && !validCertificate(previous, now)) {
      previous = undefined;
      await write(api, plan, plan.ca.secret, caSecret, caData(ca, previous));
      entries.push({ secret: plan.ca.secret, action: 'updated', reason: 'the CA it replaced has expired' });
    } else {
      entries.push({ secret: plan.ca.secret, action: 'kept' });
    }
  }
  const bundle = ca.certPem + (previous ?? '');

  for (const wanted of plan.certificates) {
    const secret = await api.get(wanted.secret);
    const pair = pairOf(secret);
    const expected = {
      issuerPem: ca.certPem,
      ...(wanted.spiffeId ? { spiffeId: wanted.spiffeId } : {}),
      ...(wanted.dnsNames ? { dnsNames: wanted.dnsNames } : {}),
    };
    const why = pair ? leafProblem(pair, expected, now, plan.renewDays * DAY_MS) : 'missing';
    if (why) {
      const issued = await issueCertificate({
        ca,
        commonName: wanted.commonName,
        ...(wanted.spiffeId ? { spiffeId: wanted.spiffeId } : {}),
        ...(wanted.dnsNames ? { dnsNames: wanted.dnsNames } : {}),
        days: plan.days,
      });
      await write(api, plan, wanted.secret, secret, leafData(issued, bundle));
      entries.push({ secret: wanted.secret, action: 'issued', reason: why });
    } else if (text(secret, 'ca.crt') !== bundle || secret!.type !== TLS) {
      await write(api, plan, wanted.secret, secret, leafData(pair!, bundle));
      entries.push({ secret: wanted.secret, action: 'updated', reason: 'trust bundle' });
    } else {
      entries.push({ secret: wanted.secret, action: 'kept' });
    }
  }
  return entries;
}

/** Removes every Secret of the plan (when the release is uninstalled). */
export async function deleteSecrets(api: SecretsApi, plan: Plan): Promise<SyncEntry[]> {
  const entries: SyncEntry[] = [];
  for (const name of [...plan.certificates.map((certificate) => certificate.secret), plan.ca.secret]) {
    entries.push({ secret: name, action: (await api.remove(name)) ? 'deleted' : 'absent' });
  }
  return entries;
}

const caData = (ca: CertificatePem, previous: string | undefined): Record<string, string> => ({
  'tls.crt': ca.certPem,
  'tls.key': ca.keyPem,
  ...(previous ? { [PREVIOUS_CA]: previous } : {}),
});

const leafData = (pair: CertificatePem, bundle: string): Record<string, string> => ({
  'tls.crt': pair.certPem,
  'tls.key': pair.keyPem,
  'ca.crt': bundle,
});

/** Creates or replaces a kubernetes.io/tls Secret with `data` (plain text), keeping its other metadata. */
async function write(
  api: SecretsApi,
  plan: Plan,
  name: string,
  existing: Secret | undefined,
  data: Record<string, string>,
): Promise<void> {
  const encoded = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
  // A Secret's type cannot change: one of another type is replaced by a new one.
  if (existing && existing.type !== TLS) {
    await api.remove(name);
    existing = undefined;
  }
  if (!existing) {
    await api.create({ metadata: { name, namespace: plan.namespace, labels: plan.labels }, type: TLS, data: encoded });
    return;
  }
  // Replaced whole, so everything else it carries (annotations, owners) is sent back; field ownership is the server's.
  const { managedFields: _managedFields, ...metadata } = existing.metadata as Secret['metadata'] & {
    managedFields?: unknown;
  };
  await api.replace({
    ...existing,
    metadata: { ...metadata, name, labels: { ...metadata.labels, ...plan.labels } },
    type: TLS,
    data: encoded,
  });
}

function text(secret: Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

function pairOf(secret: Secret | undefined): CertificatePem | undefined {
  const certPem = text(secret, 'tls.crt');
  const keyPem = text(secret, 'tls.key');
  return certPem && keyPem ? { certPem, keyPem } : undefined;
}

function validCertificate(pem: string, now: Date): boolean {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime() > now.getTime();
  } catch {
    return false;
  }
}
