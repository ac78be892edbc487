import type { ChargeResult, ChargeStatus, PaymentProvider } from '../application/ports';

/** The code a provider's 404 carries when it never received the charge (see `lookup`). */
export const CHARGE_NOT_FOUND = 'charge_not_found';

export interface HttpPaymentProviderOptions {
  /** Each request, body included, is abandoned after this long; the caller then knows nothing of its outcome. */
  requestTimeoutMs: number;
}

type Reply = { status: number; body: unknown };

/**
 * A payment provider reached over HTTP (the provider simulator's API, shaped like Stripe's). Every answer it does
 * not understand, every status it does not expect and every network error or timeout is thrown as an Error: the
 * outcome is unknown then, and must never be taken for a decline, as recovery's `lookup` settles it later.
 */
export class HttpPaymentProvider implements PaymentProvider {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly options: HttpPaymentProviderOptions,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** POST /v1/charges, keyed by the payment id so that a retry never charges twice. */
  async charge(request: { paymentId: string; orderId: string; amountCents: bigint }): Promise<ChargeResult> {
    const { paymentId, orderId, amountCents } = request;
    const body = { paymentId, orderId, amountCents: amountCents.toString() };
    const reply = await this.send('POST', '/v1/charges', { body, idempotencyKey: paymentId });
    const result = reply.status === 200 ? toStatus(reply.body) : undefined;
    if (result && !('processing' in result)) return result;
    throw this.unexpected('POST', '/v1/charges', reply);
  }

  /** POST /v1/charges/{paymentId}/refunds, keyed so that a retry never refunds twice. */
  async refund(request: { paymentId: string; reference: string; amountCents: bigint }): Promise<void> {
    const { paymentId, reference, amountCents } = request;
    const path = `${chargePath(paymentId)}/refunds`;
    const body = { reference, amountCents: amountCents.toString() };
    const reply = await this.send('POST', path, { body, idempotencyKey: `refund-${paymentId}` });
    if (reply.status !== 200) throw this.unexpected('POST', path, reply);
  }

  /** GET /v1/charges/{paymentId}; undefined only on the provider's own "no such charge", not on any 404. */
  async lookup(paymentId: string): Promise<ChargeStatus> {
    const path = chargePath(paymentId);
    const reply = await this.send('GET', path);
    // A 404 from a wrong URL or a proxy must not read as "never charged": recovery would fail a paid payment.
    if (reply.status === 404 && errorCode(reply.body) === CHARGE_NOT_FOUND) return undefined;
    const status = reply.status === 200 ? toStatus(reply.body) : undefined;
    if (status) return status;
    throw this.unexpected('GET', path, reply);
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    request: { body?: unknown; idempotencyKey?: string } = {},
  ): Promise<Reply> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const text = await response.text();
      return { status: response.status, body: parseJson(text) ?? text };
    } catch (error) {
      throw new Error(`${method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  private unexpected(method: string, path: string, reply: Reply): Error {
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Error(`${method} ${this.baseUrl}${path} answered ${reply.status}: ${body.slice(0, 200)}`);
  }
}

const chargePath = (paymentId: string) => `/v1/charges/${encodeURIComponent(paymentId)}`;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorCode(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
}

/** The charge a provider's JSON describes, or undefined when it is not one it may send. */
function toStatus(body: unknown): Exclude<ChargeStatus, undefined> | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { status, reference, reason } = body as Record<string, unknown>;
  if (status === 'succeeded' && typeof reference === 'string' && reference) return { ok: true, reference };
  if (status === 'declined' && typeof reason === 'string') return { ok: false, reason };
  if (status === 'processing') return { processing: true };
  return undefined;
}
