import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChargeResult } from '../application/ports';
import { SimulatedProvider, type SimulationSettings } from '../infrastructure/simulated-provider';

export interface ProviderSimulatorOptions extends SimulationSettings {
  /** The interface to listen on; 127.0.0.1 unless told, as the API has no authentication. */
  host?: string;
  /** 0 takes any free port. */
  port: number;
}

export interface ProviderSimulator {
  /** The base URL, e.g. `http://127.0.0.1:50055`. */
  url: string;
  port: number;
  /** The provider behind the API, for tests that look at it directly. */
  provider: SimulatedProvider;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Node's timers take no more; a longer one would fire at once. */
const MAX_LATENCY_MS = 2 ** 31 - 1;

type Reply = { status: number; body: unknown };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'invalid_request',
  ) {
    super(message);
  }
}

/**
 * Serves a {@link SimulatedProvider} over HTTP, so that the provider outlives a payment service killed mid-charge:
 * `POST /v1/charges`, `GET /v1/charges/{id}`, `POST /v1/charges/{id}/refunds`, and `GET` (settings and charges
 * running) and `PUT` (settings) `/v1/simulation`.
 */
export async function startProviderSimulator(options: ProviderSimulatorOptions): Promise<ProviderSimulator> {
  const { host = '127.0.0.1', port, latencyMs, failureRate } = options;
  const invalid = simulationError({ latencyMs, failureRate });
  if (invalid) throw new RangeError(invalid);
  const provider = new SimulatedProvider({ latencyMs, failureRate });
  const server = createServer((request, response) => {
    handle(provider, request).then(
      ({ status, body }) => reply(response, status, body),
      (error: unknown) =>
        error instanceof HttpError
          ? reply(response, error.status, { error: error.message, code: error.code })
          : reply(response, 500, { error: 'internal error', code: 'internal' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    provider,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(provider: SimulatedProvider, request: IncomingMessage): Promise<Reply> {
  const { pathname } = new URL(request.url ?? '/', 'http://simulator');
  const route = `${request.method} ${pathname}`;
  if (route === 'GET /v1/simulation') return { status: 200, body: provider.status() };
  if (route === 'PUT /v1/simulation') {
    const { latencyMs, failureRate } = await readJson(request);
    const invalid = simulationError({ latencyMs, failureRate });
    if (invalid) throw new HttpError(400, invalid);
    provider.configure({ latencyMs, failureRate } as Partial<SimulationSettings>);
    return { status: 200, body: { latencyMs, failureRate } };
  }
  if (route === 'POST /v1/charges') {
    const { paymentId, orderId, amountCents } = await readJson(request);
    if (!nonEmpty(paymentId) || !nonEmpty(orderId) || !isCents(amountCents)) {
      throw new HttpError(400, 'paymentId, orderId and amountCents (a string of digits) are required');
    }
    requireKey(request, paymentId);
    // Awaited only to answer: the charge runs on in the provider if the client goes away meanwhile.
    return { status: 200, body: toBody(await provider.charge({ paymentId })) };
  }
  const match = /^\/v1\/charges\/([^/]+)(\/refunds)?$/.exec(pathname);
  const paymentId = match && decode(match[1]!);
  if (paymentId && request.method === 'GET' && !match[2]) {
    const status = await provider.lookup(paymentId);
    if (!status) throw new HttpError(404, `no charge for payment ${paymentId}`, 'charge_not_found');
    return { status: 200, body: 'processing' in status ? { status: 'processing' } : toBody(status) };
  }
  if (paymentId && request.method === 'POST' && match[2]) {
    const { reference, amountCents } = await readJson(request);
    if (!nonEmpty(reference) || !isCents(amountCents)) {
      throw new HttpError(400, 'reference and amountCents (a string of digits) are required');
    }
    requireKey(request, `refund-${paymentId}`);
    await provider.refund({ paymentId });
    return { status: 200, body: { status: 'refunded', paymentId } };
  }
  throw new HttpError(404, `no route for ${route}`, 'not_found');
}

/** Why these settings are invalid, or undefined; absent fields are left as they are. */
function simulationError({ latencyMs, failureRate }: Partial<Record<keyof SimulationSettings, unknown>>) {
  const latency = latencyMs as number;
  if (latencyMs !== undefined && !(Number.isInteger(latency) && latency >= 0 && latency <= MAX_LATENCY_MS)) {
    return `latencyMs must be an integer from 0 to ${MAX_LATENCY_MS}`;
  }
  if (failureRate !== undefined && !(typeof failureRate === 'number' && failureRate >= 0 && failureRate <= 1)) {
    return 'failureRate must be a number from 0 to 1';
  }
  return undefined;
}

const toBody = (result: ChargeResult) =>
  result.ok ? { status: 'succeeded', reference: result.reference } : { status: 'declined', reason: result.reason };
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isCents = (value: unknown): value is string => typeof value === 'string' && /^\d{1,18}$/.test(value);

/** Charges are keyed by payment id here, so a client keying them otherwise would lose its retries' safety. */
function requireKey(request: IncomingMessage, expected: string) {
  if (request.headers['idempotency-key'] !== expected) throw new HttpError(400, `Idempotency-Key must be ${expected}`);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'malformed payment id in path');
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Answered below as any other body that is not a JSON object.
  }
  throw new HttpError(400, 'the body must be a JSON object');
}

function reply(response: ServerResponse, status: number, body: unknown) {
  // The client may have gone away (its timeout); the work is done, there is just nobody left to tell.
  if (response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
