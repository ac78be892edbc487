import { SimulatedProvider } from './simulated-provider';

const request = (paymentId: string) => ({ paymentId, orderId: 'order-1', amountCents: 1_000n });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('SimulatedProvider', () => {
  it('when a charge is under way, then lookup answers processing at once, and its result once it is done', async () => {
    const provider = new SimulatedProvider({ latencyMs: 100, failureRate: 0 });
    const charged = provider.charge(request('p1'));

    await expect(provider.lookup('p1')).resolves.toEqual({ processing: true });
    await jest.advanceTimersByTimeAsync(99);
    await expect(provider.lookup('p1')).resolves.toEqual({ processing: true });
    await jest.advanceTimersByTimeAsync(1);

    const result = await charged;
    expect(result).toEqual({ ok: true, reference: expect.stringMatching(/^sim_/) });
    await expect(provider.lookup('p1')).resolves.toEqual(result);
  });

  it('when a payment was never charged, then lookup answers undefined', async () => {
    const provider = new SimulatedProvider({ latencyMs: 100, failureRate: 0 });

    await expect(provider.lookup('never')).resolves.toBeUndefined();
  });

  it('when the same payment is charged again, then it gets the first charge and is not charged twice', async () => {
    const random = jest.fn(() => 0.5);
    const provider = new SimulatedProvider({ latencyMs: 10, failureRate: 0, random });
    const first = provider.charge(request('p1'));
    const concurrent = provider.charge(request('p1'));
    await jest.advanceTimersByTimeAsync(10);
    const later = provider.charge(request('p1'));

    const result = await first;
    expect(await concurrent).toEqual(result);
    expect(await later).toEqual(result);
    expect(random).toHaveBeenCalledTimes(1);
  });

  it('when configured, then charges started afterwards take the new latency and decline rate', async () => {
    const provider = new SimulatedProvider({ latencyMs: 10, failureRate: 0, random: () => 0.5 });
    const before = provider.charge(request('before'));

    provider.configure({ latencyMs: 50, failureRate: 1 });
    const after = provider.charge(request('after'));
    await jest.advanceTimersByTimeAsync(10);

    await expect(before).resolves.toMatchObject({ ok: true });
    await expect(provider.lookup('after')).resolves.toEqual({ processing: true });
    await jest.advanceTimersByTimeAsync(40);
    await expect(after).resolves.toEqual({ ok: false, reason: 'card declined (simulated)' });
  });

  it('when configured with one setting, then the other is kept', async () => {
    const provider = new SimulatedProvider({ latencyMs: 10, failureRate: 0, random: () => 0.5 });

    provider.configure({ failureRate: 1 });
    const charged = provider.charge(request('p1'));
    await jest.advanceTimersByTimeAsync(10);

    await expect(provider.lookup('p1')).resolves.toEqual({ ok: false, reason: 'card declined (simulated)' });
    await expect(charged).resolves.toMatchObject({ ok: false });
  });
});
