import { assertId, invalid } from '@flash-sale/errors';

/**
 * List calls page by id: a page token is the last id of the previous page, base64url-encoded so that clients
 * treat it as opaque. Empty means the first page (or, in a response, no more pages).
 */
export const encodePageToken = (afterId: string | undefined): string =>
  afterId ? Buffer.from(afterId).toString('base64url') : '';

export function decodePageToken(token: string): string | undefined {
  if (token === '') return undefined;
  try {
    return assertId(Buffer.from(token, 'base64url').toString(), 'page_token');
  } catch {
    throw invalid('INVALID_PAGE_TOKEN', 'page token is invalid', { field: 'page_token' });
  }
}
