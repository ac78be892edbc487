import { readFileSync } from 'node:fs';
import { request } from 'node:https';

/** Makes Kubernetes delete an object once its owner is deleted. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A core/v1 Secret, as much of it as the hook Job reads and writes (`data` values are base64). */
export interface Secret {
  apiVersion?: 'v1';
  kind?: 'Secret';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    resourceVersion?: string;
  };
  type?: string;
  data?: Record<string, string>;
}

/** What the hook Job does in one namespace. */
export interface KubernetesApi {
  /** The Secret, or undefined when there is none. */
  getSecret(name: string): Promise<Secret | undefined>;
  createSecret(secret: Secret): Promise<void>;
  /** Replaces it whole; fails with 409 when it changed since `metadata.resourceVersion` was read. */
  replaceSecret(secret: Secret): Promise<void>;
  /** True when it existed. */
  deleteSecret(name: string): Promise<boolean>;
  /** A reference to the ConfigMap `name`, or undefined while it does not exist. */
  ownerReference(kind: 'ConfigMap', name: string): Promise<OwnerReference | undefined>;
}

/** A refusal from the API server, with its HTTP status and its own message. */
export class KubernetesApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubernetesApiError';
  }
}

const ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  /** The API server: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which kubelet gives every container. */
  host: string | undefined;
  port: number;
  /** The pod's ServiceAccount token; read before every request, since kubelet rotates it. */
  tokenFile?: string;
  /** The cluster CA that signed the API server's certificate. */
  caFile?: string;
  timeoutMs?: number;
}

/**
 * The API of `namespace` over plain HTTPS, authenticated with the pod's ServiceAccount token: five calls need no
 * client library. The API server's certificate is verified against the cluster CA.
 */
export function inClusterApi(namespace: string, options: InClusterOptions): KubernetesApi {
  const { host, port } = options;
  if (!host) throw new Error('KUBERNETES_SERVICE_HOST is not set: not running in a Kubernetes pod?');
  const tokenFile = options.tokenFile ?? `${ACCOUNT_DIR}/token`;
  const ca = readFileSync(options.caFile ?? `${ACCOUNT_DIR}/ca.crt`);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const core = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  const base = `${core}/secrets`;

  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host,
          port,
          path,
          method,
          ca,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });

  const fail = (what: string, status: number, json: unknown): never => {
    const message = (json as { message?: string } | undefined)?.message ?? 'no message';
    throw new KubernetesApiError(status, `${what}: HTTP ${status}: ${message}`);
  };
  const named = (name: string) => `${base}/${encodeURIComponent(name)}`;

  return {
    async getSecret(name) {
      const { status, json } = await call('GET', named(name));
      if (status === 404) return undefined;
      if (status !== 200) fail(`reading Secret ${namespace}/${name}`, status, json);
      return json as Secret;
    },
    async createSecret(secret) {
      const { status, json } = await call('POST', base, { apiVersion: 'v1', kind: 'Secret', ...secret });
      if (status !== 201 && status !== 200) fail(`creating Secret ${namespace}/${secret.metadata.name}`, status, json);
    },
    async replaceSecret(secret) {
      const name = secret.metadata.name;
      const { status, json } = await call('PUT', named(name), { apiVersion: 'v1', kind: 'Secret', ...secret });
      if (status !== 200) fail(`replacing Secret ${namespace}/${name}`, status, json);
    },
    async deleteSecret(name) {
      const { status, json } = await call('DELETE', named(name));
      if (status === 404) return false;
      if (status !== 200 && status !== 202) fail(`deleting Secret ${namespace}/${name}`, status, json);
      return true;
    },
    async ownerReference(kind, name) {
      const { status, json } = await call('GET', `${core}/configmaps/${encodeURIComponent(name)}`);
      if (status === 404) return undefined;
      if (status !== 200) fail(`reading ${kind} ${namespace}/${name}`, status, json);
      const uid = (json as { metadata?: { uid?: string } }).metadata?.uid;
      if (!uid) throw new KubernetesApiError(status, `${kind} ${namespace}/${name} has no uid`);
      return { apiVersion: 'v1', kind, name, uid };
    },
  };
}
