import { z } from '@flash-sale/config';
import { generalOutcomes } from './operations';
import { openApiPath, type Route } from './route-table';
import * as s from './schemas';

type Json = Record<string, unknown>;

/** JSON Schema 2020-12 (the dialect of OpenAPI 3.1), referencing named schemas under components. */
function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

function components(): Json {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  return Object.fromEntries(
    Object.entries(schemas).map(([name, { $schema: _, $id: __, ...schema }]) => [name, schema]),
  );
}

const ref = (schema: z.ZodType): Json => {
  const id = z.globalRegistry.get(schema)?.id;
  return id ? { $ref: `#/components/schemas/${id}` } : jsonSchema(schema);
};

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref(s.problem) } },
});

function parameters(where: 'path' | 'query', schema: z.ZodObject | undefined): Json[] {
  return Object.entries(schema?.shape ?? {}).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType),
  }));
}

/**
 * The OpenAPI 3.1 document of the gateway, built from the route table and the same zod schemas that validate. `now`
 * dates the example sale, so that the example is always accepted.
 */
export function openApiDocument(routes: readonly Route[], version: string, now: Date): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const { spec, method, template } of routes) {
    const outcomes: Record<number, string> = { ...generalOutcomes(spec, method) };
    for (const [status, text] of Object.entries(spec.outcomes)) {
      const general = outcomes[Number(status)];
      outcomes[Number(status)] = general ? `${text}; ${general}` : text;
    }
    const responses: Record<string, Json> = {
      [spec.success.status]: {
        description: spec.success.description,
        content: { 'application/json': { schema: ref(spec.success.schema) } },
        ...(spec.links
          ? {
              links: Object.fromEntries(
                Object.entries(spec.links).map(([operationId, parameters]) => [
                  operationId,
                  { operationId, parameters },
                ]),
              ),
            }
          : {}),
      },
    };
    if (spec.alsoSucceeds) {
      responses[spec.alsoSucceeds.status] = {
        description: spec.alsoSucceeds.description,
        content: { 'application/json': { schema: ref(spec.alsoSucceeds.schema) } },
      };
    }
    for (const [status, text] of Object.entries(outcomes)) responses[status] = problemResponse(text);
    const headers = spec.idempotent
      ? [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: true,
            description: 'the same key and body return the same response; another body with it -> 422',
            schema: jsonSchema(s.idempotencyKey),
          },
        ]
      : [];
    (paths[openApiPath(template)] ??= {})[method.toLowerCase()] = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: [spec.tag],
      description: `gRPC \`${spec.rpc}\``,
      ...(spec.access === 'public' ? { security: [{}, { bearer: [] }] } : {}),
      parameters: [...parameters('path', spec.params), ...parameters('query', spec.query), ...headers],
      ...(spec.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(spec.body) } } } }
        : {}),
      responses,
    };
  }
  const plain = (description: string, schema: Json) => ({
    get: {
      summary: description,
      tags: ['operations'],
      security: [{}],
      responses: { 200: { description, content: { 'application/json': { schema } } } },
    },
  });
  paths['/healthz'] = plain('the process is up', { type: 'object' });
  paths['/readyz'] = {
    get: {
      summary: 'upstreams and Redis reachable',
      tags: ['operations'],
      security: [{}],
      responses: {
        200: { description: 'ready', content: { 'application/json': { schema: { type: 'object' } } } },
        503: { description: 'not ready', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  paths['/metrics'] = {
    get: {
      summary: 'Prometheus metrics',
      tags: ['operations'],
      security: [{}],
      responses: {
        200: { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flash Sale Mesh',
      version,
      description:
        'The HTTP face of the flash-sale gRPC mesh. Ids are Snowflake ids as decimal strings, money is integer cents, ' +
        'times are RFC 3339. Every error is application/problem+json with a stable `code`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'promotions', description: 'flash sales and purchases' },
      { name: 'orders', description: 'orders, payment and cancellation' },
      { name: 'operations', description: 'health, readiness and metrics' },
    ],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: withExample(components(), 'CreatePromotion', s.createPromotionExample(now)),
    },
  };
}

function withExample(schemas: Json, name: string, example: Json): Json {
  return { ...schemas, [name]: { ...(schemas[name] as Json), examples: [example] } };
}

/** The document as served: built again when the hour changes, so its example sale stays current. */
export function servedOpenApi(routes: readonly Route[], version: string): (now: Date) => Json {
  let cached: { hour: number; document: Json } | undefined;
  return (now) => {
    const hour = Math.floor(now.getTime() / 3_600_000);
    if (cached?.hour !== hour) cached = { hour, document: openApiDocument(routes, version, now) };
    return cached.document;
  };
}
