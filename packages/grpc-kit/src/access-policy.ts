import { readFileSync } from 'node:fs';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { ConfigError, MESH_WORKLOADS, z, type MeshWorkload } from '@flash-sale/config';

const workload = z.enum(MESH_WORKLOADS);
const method = z
  .object({
    /** Reachable from the fronts: the HTTP side (and the gRPC door) exposes it. */
    public: z.boolean().optional(),
    /** Workloads that call it themselves. */
    callers: z.array(workload).optional(),
  })
  .strict();
const schema = z
  .object({
    /** The identities whose caller metadata (x-user-id, x-user-roles) is honoured. */
    fronts: z.array(workload).min(1),
    services: z.record(
      z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.[A-Z][A-Za-z0-9]*$/, 'a fully qualified service name'),
      z
        .object({
          workload,
          methods: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'a method name'), method),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * The mesh's allow-list (deploy/helm/flash-sale/files/access-policy.yaml): for each service, the workload that
 * serves it and, for each method, who may call it. A method is public when the fronts may call it; with neither
 * `public` nor `callers`, nobody may.
 */
export type AccessPolicy = z.output<typeof schema>;

/** Services any valid mesh identity may call: health checks and server reflection. */
export const INFRASTRUCTURE_SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
] as const;

/** Parses and checks a policy; a problem throws a ConfigError naming the file and the entry. */
export function parseAccessPolicy(text: string, source: string): AccessPolicy {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigError([`${source}: not YAML: ${(error as Error).message}`]);
  }
  const result = schema.safeParse(document);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

export function loadAccessPolicy(file: string): AccessPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`ACCESS_POLICY_FILE: cannot read ${file}: ${(error as Error).message}`]);
  }
  return parseAccessPolicy(text, file);
}

const callerSets = new WeakMap<AccessPolicy, Map<string, ReadonlySet<MeshWorkload>>>();

/** The workloads that may call `service`/`method` under `policy` (empty when nobody may, or it is not listed). */
export function callersOf(policy: AccessPolicy, service: string, method: string): ReadonlySet<MeshWorkload> {
  // Asked on every call: each answer is worked out once per policy.
  let known = callerSets.get(policy);
  if (!known) callerSets.set(policy, (known = new Map()));
  const key = `${service}/${method}`;
  let callers = known.get(key);
  if (!callers) {
    const rule = policy.services[service]?.methods[method];
    callers = new Set(rule ? [...(rule.callers ?? []), ...(rule.public ? policy.fronts : [])] : []);
    known.set(key, callers);
  }
  return callers;
}

export interface ServedService {
  name: string;
  definition: ServiceDefinition;
}

/**
 * Checks the policy against what a process serves: each service is listed, as served by this workload, with
 * exactly the methods it has. Throws a ConfigError listing every mismatch.
 */
export function checkServedServices(
  policy: AccessPolicy,
  source: string,
  served: MeshWorkload,
  services: readonly ServedService[],
): void {
  const problems: string[] = [];
  for (const { name, definition } of services) {
    const entry = policy.services[name];
    if (!entry) {
      problems.push(`${source}: services.${name} is missing; this process serves it`);
      continue;
    }
    if (entry.workload !== served) {
      problems.push(`${source}: services.${name}.workload is ${entry.workload}, but the ${served} workload serves it`);
    }
    const methods = Object.values(definition).map((handler) => handler.path.slice(handler.path.lastIndexOf('/') + 1));
    for (const method of methods.filter((method) => !(method in entry.methods))) {
      problems.push(`${source}: services.${name}.methods.${method} is missing (say who may call it, or {} for nobody)`);
    }
    for (const method of Object.keys(entry.methods).filter((method) => !methods.includes(method))) {
      problems.push(`${source}: services.${name}.methods.${method}: the service has no such method`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
