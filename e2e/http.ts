import { randomUUID } from 'node:crypto';
import { mint } from '../scripts/token';
import { JWT_SECRET } from './mesh';

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  contentType: string;
  headers: Headers;
}

/** A small HTTP client bound to the gateway and one user's token. */
export function client(baseUrl: string, token?: string) {
  const send = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<Reply<T>> => {
    const headers: Record<string, string> = { ...init.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = init.raw;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : {}) as T,
      contentType: res.headers.get('content-type') ?? '',
      headers: res.headers,
    };
  };
  return {
    get: <T = Record<string, unknown>>(path: string) => send<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) =>
      send<T>('POST', path, { ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) }),
    send,
  };
}

export const tokenFor = (user: string, admin = false) => mint(user, { admin, key: JWT_SECRET });
export const newKey = () => randomUUID();

/** The body of `POST /v1/promotions` for a sale open from a second ago for an hour; `overrides` change any field. */
export const openSale = (overrides: Record<string, unknown> = {}) => ({
  itemId: 'sku-e2e',
  title: 'E2E item',
  priceCents: 1_000,
  stock: 5,
  perUserLimit: 1,
  startsAt: new Date(Date.now() - 1_000).toISOString(),
  endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  paymentTimeoutSeconds: 600,
  ...overrides,
});
