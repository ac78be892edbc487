import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary, getExtension, hasExtension, type DescExtension } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/** One `google.api.http` annotation: the HTTP face of a gRPC method, as declared in proto/. */
export interface HttpRule {
  /** Fully qualified method, e.g. `flashsale.order.v1.OrderService.GetOrder`. */
  rpc: string;
  httpMethod: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path template with proto field names, e.g. `/v1/orders/{order_id}`. */
  path: string;
  /** `*` (the whole request message is the body), a field name, or empty (no body). */
  body: string;
}

const VERBS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every method of every service in a FileDescriptorSet that carries a `google.api.http` annotation. */
export function loadHttpRules(descriptorSet: Uint8Array): HttpRule[] {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const http = registry.getExtension('google.api.http') as DescExtension | undefined;
  if (!http) throw new Error('the descriptor set does not contain google/api/annotations.proto');
  const rules: HttpRule[] = [];
  for (const file of registry.files) {
    for (const service of file.services) {
      for (const method of service.methods) {
        const options = method.proto.options;
        if (!options || !hasExtension(options, http)) continue;
        const rule = getExtension(options, http) as { pattern: { case?: string; value?: unknown }; body: string };
        const verb = VERBS.find((candidate) => candidate === rule.pattern.case);
        if (!verb) throw new Error(`${method.toString()}: unsupported HTTP pattern ${String(rule.pattern.case)}`);
        rules.push({
          rpc: `${service.typeName}.${method.name}`,
          httpMethod: verb.toUpperCase() as HttpRule['httpMethod'],
          path: String(rule.pattern.value),
          body: rule.body,
        });
      }
    }
  }
  return rules;
}

/** The rules of the mesh's own descriptor set (built by `npm run generate`). */
export const meshHttpRules = (path: string): HttpRule[] => loadHttpRules(readFileSync(path));
