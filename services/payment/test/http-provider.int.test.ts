/**
 * The HTTP payment provider against the provider simulator, run in this process on a free port: what a payment
 * service sees of a provider that lives outside it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@flash-sale/testing';
import type { ChargeStatus } from '../src/application/ports';
import { HttpPaymentProvider } from '../src/infrastructure/http-provider';
import { startProviderSimulator, type ProviderSimulator } from '../src/simulator/provider-simulator';

let simulator: ProviderSimulator;
let provider: HttpPaymentProvider;
let sequence = 0;

const newPaymentId = () => `pay-${process.pid}-${++sequence}`;
const chargeOf = (paymentId: string) => ({ paymentId, orderId: `order-${paymentId}`, amountCents: 4_999n });

const simulate = (body: unknown) =>
  fetch(`${simulator.url}/v1/simulation`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Waits until lookup answers something `accept` takes (polling, never a fixed sleep). */
const lookupUntil = (paymentId: string, accept: (status: ChargeStatus) => boolean, what: string) =>
  waitFor(
    async () => {
      const status = await provider.lookup(paymentId);
      return accept(status) ? { status } : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 10, what },
  ).then(({ status }) => status);

const isSettled = (status: ChargeStatus) => status !== undefined && !('processing' in status);

beforeAll(async () => {
  simulator = await startProviderSimulator({ port: 0, latencyMs: 5, failureRate: 0 });
  provider = new HttpPaymentProvider(simulator.url, { requestTimeoutMs: 2_000 });
});

afterAll(() => simulator?.stop());

beforeEach(async () => {
  expect((await simulate({ latencyMs: 5, failureRate: 0 })).status).toBe(200);
});

describe('HttpPaymentProvider against the provider simulator', () => {
  it('when a payment is charged, then it succeeds with a reference that lookup reports', async () => {
    const paymentId = newPaymentId();

    const result = await provider.charge(chargeOf(paymentId));

    expect(result).toEqual({ ok: true, reference: expect.stringMatching(/^sim_/) });
    await expect(provider.lookup(paymentId)).resolves.toEqual(result);
  });

  it('when the same payment id is charged twice, then both answers carry the same reference', async () => {
    const paymentId = newPaymentId();

    const [first, second] = await Promise.all([
      provider.charge(chargeOf(paymentId)),
      provider.charge(chargeOf(paymentId)),
    ]);
    const third = await provider.charge(chargeOf(paymentId));

    expect(first).toMatchObject({ ok: true });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it('when the simulation declines every charge, then the charge is declined with a reason', async () => {
    expect((await simulate({ failureRate: 1 })).status).toBe(200);
    const paymentId = newPaymentId();

    await expect(provider.charge(chargeOf(paymentId))).resolves.toEqual({ ok: false, reason: expect.any(String) });
    await expect(provider.lookup(paymentId)).resolves.toMatchObject({ ok: false });
  });

  it('when a slow charge runs, then lookup answers processing at once, then succeeded', async () => {
    await simulate({ latencyMs: 300 });
    const paymentId = newPaymentId();

    const charged = provider.charge(chargeOf(paymentId));
    const first = await lookupUntil(paymentId, (status) => status !== undefined, 'the charge to reach the provider');
    expect(first).toEqual({ processing: true });
    const settled = await lookupUntil(paymentId, isSettled, 'the charge to settle');

    expect(settled).toEqual(await charged);
    expect(settled).toMatchObject({ ok: true });
  });

  it('when a harness asks the simulation, then it tells its settings and how many charges are running', async () => {
    await simulate({ latencyMs: 300 });
    const before = (await (await fetch(`${simulator.url}/v1/simulation`)).json()) as { processing: number };
    const charged = provider.charge(chargeOf(newPaymentId()));
    const during = await waitFor(
      async () => {
        const status = (await (await fetch(`${simulator.url}/v1/simulation`)).json()) as { processing: number };
        return status.processing > before.processing && status;
      },
      { what: 'the charge counted as running', intervalMs: 10 },
    );
    expect(during).toMatchObject({ latencyMs: 300, failureRate: 0, processing: before.processing + 1 });
    await charged;
  });

  it('when the client gives up on a charge, then the adapter throws and the charge still completes at the provider', async () => {
    await simulate({ latencyMs: 300 });
    const impatient = new HttpPaymentProvider(simulator.url, { requestTimeoutMs: 30 });
    const paymentId = newPaymentId();

    await expect(impatient.charge(chargeOf(paymentId))).rejects.toThrow(`POST ${simulator.url}/v1/charges failed`);

    const settled = await lookupUntil(paymentId, isSettled, 'the abandoned charge to settle');
    expect(settled).toEqual({ ok: true, reference: expect.stringMatching(/^sim_/) });
  });

  it('when a payment was never charged, then lookup answers undefined', async () => {
    await expect(provider.lookup(newPaymentId())).resolves.toBeUndefined();
  });

  it('when a charged payment is refunded, then the provider records the refund', async () => {
    const paymentId = newPaymentId();
    const charged = await provider.charge(chargeOf(paymentId));
    if (!charged.ok) throw new Error('expected the charge to succeed');

    await provider.refund({ paymentId, reference: charged.reference, amountCents: 4_999n });

    expect(simulator.provider.refunds.has(paymentId)).toBe(true);
  });

  it('when the simulation settings are invalid, then the simulator answers 400 and keeps its settings', async () => {
    for (const body of [{ latencyMs: -1 }, { latencyMs: 1.5 }, { failureRate: 2 }, { failureRate: '0.5' }, [1]]) {
      const response = await simulate(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.any(String), code: 'invalid_request' });
    }
    await expect(provider.charge(chargeOf(newPaymentId()))).resolves.toMatchObject({ ok: true });
  });

  it('when a charge request is malformed, then the simulator answers 400 and charges nothing', async () => {
    const paymentId = newPaymentId();
    const post = (body: string, key = paymentId) =>
      fetch(`${simulator.url}/v1/charges`, { method: 'POST', headers: { 'idempotency-key': key }, body });

    expect((await post('{not json')).status).toBe(400);
    expect((await post(JSON.stringify({ paymentId, orderId: 'o' }))).status).toBe(400);
    expect((await post(JSON.stringify({ paymentId, orderId: 'o', amountCents: 10 }))).status).toBe(400);
    expect((await post(JSON.stringify({ paymentId, orderId: 'o', amountCents: '10' }), 'other')).status).toBe(400);
    await expect(provider.lookup(paymentId)).resolves.toBeUndefined();
  });
});

describe('HttpPaymentProvider when the provider fails', () => {
  // Answers 500 to every POST, and to every GET a bare 404 without the provider's error code, as a misrouted proxy.
  const broken = createServer((request, response) => response.writeHead(request.method === 'GET' ? 404 : 500).end());
  let url: string;
  let failing: HttpPaymentProvider;

  beforeAll(async () => {
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    failing = new HttpPaymentProvider(url, { requestTimeoutMs: 2_000 });
  });

  afterAll(() => new Promise<void>((resolve) => broken.close(() => resolve()).closeAllConnections()));

  it('when the provider answers 500, then charge and refund throw naming the call, not a decline', async () => {
    await expect(failing.charge(chargeOf('p-500'))).rejects.toThrow(`POST ${url}/v1/charges answered 500`);
    await expect(failing.refund({ paymentId: 'p-500', reference: 'r', amountCents: 1n })).rejects.toThrow(
      `POST ${url}/v1/charges/p-500/refunds answered 500`,
    );
  });

  it('when a 404 does not come from the provider, then lookup throws rather than answer "never charged"', async () => {
    await expect(failing.lookup('p-404')).rejects.toThrow(`GET ${url}/v1/charges/p-404 answered 404`);
  });

  it('when the provider is unreachable, then every call throws naming the method and URL', async () => {
    const gone = await startProviderSimulator({ port: 0, latencyMs: 0, failureRate: 0 });
    await gone.stop();
    const unreachable = new HttpPaymentProvider(gone.url, { requestTimeoutMs: 2_000 });

    await expect(unreachable.charge(chargeOf('p-x'))).rejects.toThrow(`POST ${gone.url}/v1/charges failed`);
    await expect(unreachable.lookup('p-x')).rejects.toThrow(`GET ${gone.url}/v1/charges/p-x failed`);
  });
});
