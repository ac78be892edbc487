import { RetryBudget } from './retry-budget';

describe('RetryBudget', () => {
  it('when an upstream fails every call, then retries stay within the reserve plus a tenth of the calls', () => {
    const budget = new RetryBudget(0.1, 10);
    let retries = 0;
    for (let call = 0; call < 1_000; call += 1) {
      budget.deposit();
      if (budget.withdraw()) retries += 1;
    }
    expect(retries).toBeGreaterThanOrEqual(100);
    expect(retries).toBeLessThanOrEqual(110);
  });

  it('when calls are quiet, then the reserve refills but never beyond its size', () => {
    const budget = new RetryBudget(0.5, 2);
    for (let call = 0; call < 100; call += 1) budget.deposit();
    expect([budget.withdraw(), budget.withdraw(), budget.withdraw()]).toEqual([true, true, false]);
  });
});
