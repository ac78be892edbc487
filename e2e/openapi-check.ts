import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;

/**
 * Validates an OpenAPI document against the official OpenAPI 3.1 schema. The validator is an ES module, which
 * Jest's CommonJS runtime cannot load, so it runs in a child Node process.
 */
export async function validateOpenApi(document: Json): Promise<{ valid: boolean; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    const result = await new Validator().validate(JSON.parse(process.argv[1]));
    process.stdout.write(JSON.stringify(result));`;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    script,
    JSON.stringify(document),
  ]);
  return JSON.parse(stdout) as { valid: boolean; errors?: unknown };
}

/** Checks HTTP replies against the responses an OpenAPI document declares for each operation. */
export function responseChecker(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
  const paths = document.paths as Record<string, Record<string, { responses: Record<string, Json> }>>;
  return (path: string, method: string, reply: { status: number; body: unknown; contentType: string }) => {
    const operation = paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not in the document`];
    const response = operation.responses[String(reply.status)];
    if (!response) return [`${method} ${path} answered ${reply.status}, which is not documented`];
    const content = response.content as Record<string, { schema: Json }> | undefined;
    const mediaType = reply.contentType.split(';')[0]!.trim();
    const declared = content?.[mediaType];
    if (!declared)
      return [`${method} ${path} ${reply.status} sent ${mediaType}, documented: ${Object.keys(content ?? {})}`];
    const schema = JSON.parse(JSON.stringify(declared.schema).replaceAll('"#/components/', '"openapi#/components/'));
    const validate = ajv.compile(schema);
    return validate(reply.body)
      ? []
      : [`${method} ${path} ${reply.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(reply.body)}`];
  };
}
