import { ClockMovedBackwardsError, Snowflake, compose, decompose, SNOWFLAKE_EPOCH_MS } from './snowflake';

describe('Snowflake', () => {
  it('when many ids are made in one millisecond, then they are unique and increasing', () => {
    const now = SNOWFLAKE_EPOCH_MS + 1_000;
    let calls = 0;
    // The clock stands still for 5000 reads, forcing a sequence overflow, then moves on.
    const generator = new Snowflake(
      () => 7,
      () => (calls++ < 5000 ? now : now + 1),
    );
    const ids = Array.from({ length: 4100 }, () => BigInt(generator.next()));
    for (let i = 1; i < ids.length; i += 1) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(decompose(ids[0]!)).toEqual({ timestampMs: now, workerId: 7, sequence: 0 });
    expect(decompose(ids[4096]!).timestampMs).toBe(now + 1);
  });

  it('when the clock steps back a little, then it waits instead of repeating ids', () => {
    const times = [
      SNOWFLAKE_EPOCH_MS + 100,
      SNOWFLAKE_EPOCH_MS + 90,
      SNOWFLAKE_EPOCH_MS + 95,
      SNOWFLAKE_EPOCH_MS + 100,
    ];
    const generator = new Snowflake(
      () => 1,
      () => times.shift() ?? SNOWFLAKE_EPOCH_MS + 101,
    );
    const first = BigInt(generator.next());
    const second = BigInt(generator.next());
    expect(second > first).toBe(true);
  });

  it('when the clock steps back far, then it refuses', () => {
    const times = [SNOWFLAKE_EPOCH_MS + 10_000, SNOWFLAKE_EPOCH_MS + 1_000];
    const generator = new Snowflake(
      () => 1,
      () => times.shift()!,
    );
    generator.next();
    expect(() => generator.next()).toThrow(ClockMovedBackwardsError);
  });

  it('when parts are composed, then they decompose to the same parts', () => {
    const parts = { timestampMs: Date.UTC(2030, 5, 1), workerId: 1023, sequence: 4095 };
    expect(decompose(compose(parts))).toEqual(parts);
    expect(() => compose({ ...parts, workerId: 1024 })).toThrow(RangeError);
  });
});
