import type { z } from '@flash-sale/config';
import { httpProblem } from './problem';

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
