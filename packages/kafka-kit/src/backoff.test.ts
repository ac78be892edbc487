import { Backoff } from './backoff';

describe('Backoff', () => {
  it('when a key keeps failing, then the wait doubles up to the cap, and a success starts it over', () => {
    const backoff = new Backoff(100, 1_000, () => 1);
    expect([1, 2, 3, 4, 5].map(() => backoff.failed('t/0'))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoff.failed('t/1')).toBe(100);
    backoff.succeeded('t/0');
    expect(backoff.failed('t/0')).toBe(100);
  });

  it('when jitter is drawn low, then the wait is at most 20% shorter', () => {
    expect(new Backoff(1_000, 10_000, () => 0).failed('k')).toBe(800);
  });
});
