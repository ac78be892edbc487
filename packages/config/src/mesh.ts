import { join } from 'node:path';
import { z } from 'zod';

/**
 * The mesh's workload identities. The gateway and Envoy are the fronts (see the access policy); the others are the
 * services. Each has one certificate, naming it by a SPIFFE ID.
 */
export const MESH_WORKLOADS = ['gateway', 'envoy', 'promotion', 'inventory', 'order', 'payment'] as const;
export type MeshWorkload = (typeof MESH_WORKLOADS)[number];

export const isMeshWorkload = (name: string): name is MeshWorkload =>
  (MESH_WORKLOADS as readonly string[]).includes(name);

/** How SPIFFE IDs are spelled: `spiffe://<trustDomain>/ns/<namespace>/sa/<saPrefix><workload>`. */
export interface SpiffeNaming {
  trustDomain: string;
  namespace: string;
  /** Prepended to the workload to make its Kubernetes ServiceAccount name (the chart's `<fullname>-`). */
  saPrefix: string;
}

/** The local defaults; the chart passes its own (trust domain from values, the release's namespace and names). */
export const LOCAL_SPIFFE: SpiffeNaming = {
  trustDomain: 'flash-sale.local',
  namespace: 'local',
  saPrefix: 'flash-sale-',
};

export const spiffeIdFor = (naming: SpiffeNaming, workload: string): string =>
  `spiffe://${naming.trustDomain}/ns/${naming.namespace}/sa/${naming.saPrefix}${workload}`;

/** The workload a SPIFFE ID names under `naming`, or undefined when it names none of the mesh's. */
export function workloadOf(naming: SpiffeNaming, spiffeId: string): MeshWorkload | undefined {
  const prefix = spiffeIdFor(naming, '');
  if (!spiffeId.startsWith(prefix)) return undefined;
  const name = spiffeId.slice(prefix.length);
  return isMeshWorkload(name) ? name : undefined;
}

/** The URI entries of a certificate's subject alternative names as Node prints them (`subjectAltName`, `subjectaltname`). */
export function uriNames(subjectAltName: string): string[] {
  const found: string[] = [];
  // Node quotes a value that holds a separator (JSON style), so a name can never be split or forged by one.
  const entry = /(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of subjectAltName.matchAll(entry)) {
    const value = match[1]!;
    found.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  return found;
}

/**
 * The SPIFFE ID in a certificate's subject alternative names: its one `spiffe://` URI. Undefined when there is none;
 * an error when there are several (an X.509 SVID has exactly one).
 */
export function spiffeIdIn(subjectAltName: string | undefined): string | undefined {
  const ids = uriNames(subjectAltName ?? '').filter((uri) => uri.startsWith('spiffe://'));
  if (ids.length > 1) throw new Error(`the certificate names ${ids.length} SPIFFE IDs; a workload has one`);
  return ids[0];
}

const REPO = join(__dirname, '..', '..', '..');

/** The development PKI that `flash-pki init` keeps (scripts/infra.sh up runs it): `<dir>/<workload>/tls.*`. */
export const LOCAL_PKI_DIR = join(REPO, '.infra', 'pki');

/** The one allow-list of the mesh: which workload may call which method. The chart mounts the same file. */
export const ACCESS_POLICY_PATH = join(REPO, 'deploy', 'helm', 'flash-sale', 'files', 'access-policy.yaml');

/** Characters of a SPIFFE trust domain (the SPIFFE ID spec). */
const trustDomain = z
  .string()
  .regex(/^[a-z0-9._-]+$/, 'lower-case letters, digits, dot, dash and underscore only')
  .max(255);
/** A Kubernetes namespace: a DNS label. */
const namespace = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace (a DNS label)');
/** The start of a ServiceAccount name (DNS subdomain characters); may be empty. */
const saPrefix = z
  .string()
  .max(200)
  .regex(/^[a-z0-9.-]*$/, 'lower-case letters, digits, dot and dash only');

/** A SpiffeNaming checked as the variables are (for the `flash-pki` command's flags). */
export const spiffeNamingSchema = z.object({ trustDomain, namespace, saPrefix });

/**
 * The mTLS settings of a workload's process. `on` (the default): every gRPC connection is mutual TLS with the
 * certificates in TLS_DIR (`tls.crt`, `tls.key`, `ca.crt`, reloaded when they change) and every call is authorized
 * by ACCESS_POLICY_FILE. `off`: plaintext, no caller identity and no per-method authorization, for meshes (Linkerd,
 * Istio) whose sidecars do mTLS themselves.
 */
export const meshEnv = (workload: MeshWorkload) => ({
  MTLS_MODE: z.enum(['on', 'off']).default('on'),
  TLS_DIR: z.string().min(1).default(join(LOCAL_PKI_DIR, workload)),
  SPIFFE_TRUST_DOMAIN: trustDomain.default(LOCAL_SPIFFE.trustDomain),
  SPIFFE_NAMESPACE: namespace.default(LOCAL_SPIFFE.namespace),
  SPIFFE_SA_PREFIX: saPrefix.default(LOCAL_SPIFFE.saPrefix),
  ACCESS_POLICY_FILE: z.string().min(1).default(ACCESS_POLICY_PATH),
});

/** The variables `meshEnv` adds, as a config that has them reads them. */
export interface MeshConfig {
  MTLS_MODE: 'on' | 'off';
  TLS_DIR: string;
  SPIFFE_TRUST_DOMAIN: string;
  SPIFFE_NAMESPACE: string;
  SPIFFE_SA_PREFIX: string;
  ACCESS_POLICY_FILE: string;
}

export const spiffeNamingOf = (config: MeshConfig): SpiffeNaming => ({
  trustDomain: config.SPIFFE_TRUST_DOMAIN,
  namespace: config.SPIFFE_NAMESPACE,
  saPrefix: config.SPIFFE_SA_PREFIX,
});
