import { z } from '@flash-sale/config';
import { httpProblem } from './problem';

/** Snowflake ids travel as decimal strings. */
export const idParam = z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be a decimal id');

const rfc3339 = z.iso.datetime({ offset: true });

export const createPromotionBody = z
  .object({
    itemId: z.string().min(1).max(64),
    title: z.string().min(1).max(200),
    priceCents: z.number().int().min(0).max(10_000_000_000),
    stock: z.number().int().min(1).max(10_000_000),
    perUserLimit: z.number().int().min(1).max(100),
    startsAt: rfc3339,
    endsAt: rfc3339,
    paymentTimeoutSeconds: z.number().int().min(1).max(86_400),
  })
  .strict();

export const purchaseBody = z.object({ quantity: z.number().int().min(1).max(100).default(1) }).strict();

export const emptyBody = z.object({}).strict();

export const listPromotionsQuery = z
  .object({
    status: z.enum(['SCHEDULED', 'ACTIVE', 'SOLD_OUT', 'ENDED']).optional(),
    pageSize: z.coerce.number().int().min(1).max(100).optional(),
    pageToken: z.string().max(64).optional(),
  })
  .strict();

export const listOrdersQuery = z
  .object({
    pageSize: z.coerce.number().int().min(1).max(100).optional(),
    pageToken: z.string().max(64).optional(),
  })
  .strict();

/** 1-128 visible ASCII characters, as the services require. */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 visible ASCII characters');

/** Parses `value` or throws a 400 problem listing every bad field. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'path' | 'header',
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || where,
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  throw httpProblem(400, 'INVALID_REQUEST', `the request ${where} is invalid`, { errors });
}

/** The `Idempotency-Key` header, required on purchase and pay. */
export function requireIdempotencyKey(header: string | undefined): string {
  if (header === undefined) {
    throw httpProblem(400, 'IDEMPOTENCY_KEY_REQUIRED', 'the Idempotency-Key header is required', {
      errors: [{ field: 'Idempotency-Key', message: 'required' }],
    });
  }
  return parse(idempotencyKey, header, 'header');
}
