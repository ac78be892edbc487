import type { HttpRule } from '@flash-sale/contracts';
import { OPERATIONS, type OperationSpec } from './operations';

export interface Route {
  spec: OperationSpec;
  method: HttpRule['httpMethod'];
  /** The proto path template, e.g. `/v1/orders/{order_id}`. */
  template: string;
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** `/v1/orders/{order_id}` -> `/v1/orders/:orderId` (parameters in JSON spelling). */
export const expressPath = (template: string) =>
  template.replace(/\{([a-z_]+)\}/g, (_, name: string) => `:${camel(name)}`);

/** `/v1/orders/{order_id}` -> `/v1/orders/{orderId}`. */
export const openApiPath = (template: string) =>
  template.replace(/\{([a-z_]+)\}/g, (_, name: string) => `{${camel(name)}}`);

/**
 * Joins each operation to the `google.api.http` annotation of its gRPC method. Any disagreement (an annotated
 * method the gateway does not serve, an operation whose method has no annotation, path parameters that differ)
 * stops the gateway at start-up, so the routes cannot drift from proto/.
 */
export function routeTable(rules: readonly HttpRule[], operations: readonly OperationSpec[] = OPERATIONS): Route[] {
  const problems: string[] = [];
  const specs = new Map(operations.map((spec) => [spec.rpc, spec]));
  const routes: Route[] = [];
  for (const rule of rules) {
    const spec = specs.get(rule.rpc);
    if (!spec) {
      problems.push(`${rule.rpc} is annotated ${rule.httpMethod} ${rule.path} but the gateway has no operation for it`);
      continue;
    }
    specs.delete(rule.rpc);
    const inPath = [...rule.path.matchAll(/\{([a-z_]+)\}/g)].map((match) => camel(match[1]!)).sort();
    const declared = Object.keys(spec.params?.shape ?? {}).sort();
    if (inPath.join() !== declared.join()) {
      problems.push(
        `${rule.rpc}: path ${rule.path} has parameters [${inPath}] but the operation declares [${declared}]`,
      );
    }
    routes.push({ spec, method: rule.httpMethod, template: rule.path });
  }
  for (const rpc of specs.keys()) problems.push(`${rpc} has an operation but no google.api.http annotation`);
  if (problems.length) throw new Error(`the HTTP routes disagree with proto/:\n  ${problems.join('\n  ')}`);
  return routes;
}
