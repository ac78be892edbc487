import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate, type CertificatePem } from '../certificates';
import type { KubernetesApi, OwnerReference, Secret } from './api';
import { caProblem, leafProblem } from './check';
import type { Plan } from './plan';

const DAY_MS = 86_400_000;
const TLS = 'kubernetes.io/tls';
/** In the CA's Secret: the CA it replaced, trusted beside it until it expires (see syncSecrets). */
const PREVIOUS_CA = 'previous.crt';

export interface SyncEntry {
  secret: string;
  action: 'kept' | 'issued' | 'updated';
  /** Why it was issued or updated. */
  reason?: string;
}

/**
 * Makes the namespace hold the plan's CA and certificates, keeping every one that is still good (see caProblem and
 * leafProblem) so an upgrade changes nothing that works. A new CA reissues every certificate. Every `ca.crt` is the
 * trust bundle: the CA, plus the CA it replaced until that one expires, so that pods which have not yet reloaded
 * their new certificate (kubelet refreshes Secret volumes within about a minute) are still accepted meanwhile.
 *
 * Once the plan's owner exists (an object of the release, absent on the first run of an install), every Secret is
 * owned by it, so Kubernetes deletes them when the release is uninstalled.
 */
export async function syncSecrets(api: KubernetesApi, plan: Plan, now = new Date()): Promise<SyncEntry[]> {
  const entries: SyncEntry[] = [];
  const owner = plan.owner ? await api.ownerReference(plan.owner.kind, plan.owner.name) : undefined;
  /** Writes a kept certificate's Secret when anything else about it is off; says what was. */
  const put = async (name: string, existing: Secret, data: Record<string, string>) => {
    const changed = changedKeys(existing, data);
    const why =
      existing.type !== TLS
        ? `type ${existing.type ?? 'none'}`
        : changed.length
          ? `new ${changed.join(', ')}`
          : owns(existing, owner)
            ? undefined
            : 'owner';
    if (why) await write(api, plan, name, existing, data, owner);
    return why;
  };

  /**
   * A Secret owned by an earlier object of the owner's name belongs to an uninstalled release, and garbage
   * collection is about to delete it: it is removed now and issued again, never kept.
   */
  const read = async (name: string) => {
    const secret = await api.getSecret(name);
    const orphan = (secret?.metadata.ownerReferences ?? []).some(
      (reference) =>
        reference.kind === plan.owner?.kind && reference.name === plan.owner.name && reference.uid !== owner?.uid,
    );
    if (!orphan) return secret;
    await api.deleteSecret(name);
    return undefined;
  };

  const caSecret = await read(plan.ca.secret);
  const current = pairOf(caSecret);
  const problem = current ? caProblem(current, now, (plan.days + plan.renewDays) * DAY_MS) : 'missing';
  let ca: CertificatePem;
  let previous: string | undefined;
  if (problem) {
    ca = await createCa({ commonName: plan.ca.commonName, days: plan.ca.days });
    previous = current && validCertificate(current.certPem, now) ? current.certPem : undefined;
    await write(api, plan, plan.ca.secret, caSecret, caData(ca, previous), owner);
    entries.push({ secret: plan.ca.secret, action: 'issued', reason: problem });
  } else {
    ca = current!;
    previous = text(caSecret, PREVIOUS_CA);
    if (previous !== undefined && !validCertificate(previous, now)) previous = undefined;
    const off = await put(plan.ca.secret, caSecret!, caData(ca, previous));
    entries.push(
      off ? { secret: plan.ca.secret, action: 'updated', reason: off } : { secret: plan.ca.secret, action: 'kept' },
    );
  }
  const bundle = ca.certPem + (previous ?? '');

  for (const wanted of plan.certificates) {
    const secret = await read(wanted.secret);
    const pair = pairOf(secret);
    const names = {
      ...(wanted.spiffeId ? { spiffeId: wanted.spiffeId } : {}),
      ...(wanted.dnsNames ? { dnsNames: wanted.dnsNames } : {}),
      // A certificate that names no workload is a server's only: it can never be used to call one.
      usage: wanted.spiffeId ? ('both' as const) : ('server' as const),
    };
    const why = pair ? leafProblem(pair, { issuerPem: ca.certPem, ...names }, now, plan.renewDays * DAY_MS) : 'missing';
    if (why) {
      const issued = await issueCertificate({ ca, commonName: wanted.commonName, ...names, days: plan.days });
      await write(api, plan, wanted.secret, secret, leafData(issued, bundle), owner);
      entries.push({ secret: wanted.secret, action: 'issued', reason: why });
    } else {
      const off = await put(wanted.secret, secret!, leafData(pair!, bundle));
      entries.push(
        off ? { secret: wanted.secret, action: 'updated', reason: off } : { secret: wanted.secret, action: 'kept' },
      );
    }
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

const encode = (data: Record<string, string>) =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]));

/** The keys whose contents differ between a Secret and `data` (plain text), either way. */
function changedKeys(secret: Secret, data: Record<string, string>): string[] {
  const have = secret.data ?? {};
  const want = encode(data);
  return [...new Set([...Object.keys(have), ...Object.keys(want)])].filter((key) => have[key] !== want[key]).sort();
}

const owns = (secret: Secret, owner: OwnerReference | undefined) =>
  !owner || (secret.metadata.ownerReferences ?? []).some((reference) => reference.uid === owner.uid);

/** Creates or replaces a kubernetes.io/tls Secret with `data` (plain text), keeping its other metadata. */
async function write(
  api: KubernetesApi,
  plan: Plan,
  name: string,
  existing: Secret | undefined,
  data: Record<string, string>,
  owner: OwnerReference | undefined,
): Promise<void> {
  // A Secret's type cannot change: one of another type is replaced by a new one.
  if (existing && existing.type !== TLS) {
    await api.deleteSecret(name);
    existing = undefined;
  }
  const references = (existing?.metadata.ownerReferences ?? []).filter((reference) => reference.uid !== owner?.uid);
  const ownerReferences = owner ? [...references, owner] : references;
  if (!existing) {
    await api.createSecret({
      metadata: { name, labels: plan.labels, ...(ownerReferences.length ? { ownerReferences } : {}) },
      type: TLS,
      data: encode(data),
    });
    return;
  }
  // Replaced whole, so everything else it carries (annotations) is sent back; field ownership is the server's.
  const { managedFields: _managedFields, ...metadata } = existing.metadata as Secret['metadata'] & {
    managedFields?: unknown;
  };
  await api.replaceSecret({
    ...existing,
    metadata: { ...metadata, name, labels: { ...metadata.labels, ...plan.labels }, ownerReferences },
    type: TLS,
    data: encode(data),
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
