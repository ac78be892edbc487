import { createLogger } from '@flash-sale/logging';
import { PumpLoop } from './pump-loop';

const logger = createLogger({ service: 'pump-loop-test', level: 'silent' });

/** A loop whose passes find nothing, each of which the test can hold open and see begin. */
function loopOfIdlePasses(options: { idleMs: number; errorMs?: number; fail?: boolean }) {
  const passes: Array<() => void> = [];
  let started: () => void = () => {};
  const loop = new PumpLoop(
    () =>
      new Promise<number>((resolve, reject) => {
        passes.push(() => (options.fail ? reject(new Error('down')) : resolve(0)));
        started();
      }),
    logger,
    { name: 'test', ...options },
  );
  const nextPass = () => new Promise<void>((resolve) => (started = resolve));
  return { loop, passes, nextPass };
}

describe('PumpLoop', () => {
  // Fake timers: a pause is a timer the test can see pending and move past, rather than a guess at its length.
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('when nudged during a pass that found nothing, then the next pass starts at once, not after the idle pause', async () => {
    const { loop, passes, nextPass } = loopOfIdlePasses({ idleMs: 60_000 });
    const first = nextPass();
    loop.start();
    await first;
    loop.nudge();
    const second = nextPass();
    passes[0]!();
    await second;
    expect(passes).toHaveLength(2);
    passes[1]!();
    await loop.stop();
  });

  it('when not nudged, then it pauses after an idle pass, and a nudge during the pause ends it', async () => {
    const { loop, passes, nextPass } = loopOfIdlePasses({ idleMs: 60_000 });
    const first = nextPass();
    loop.start();
    await first;
    const second = nextPass();
    passes[0]!();
    // The idle pause is the one timer pending; a moment short of its end, no second pass has begun.
    await jest.advanceTimersByTimeAsync(59_999);
    expect(jest.getTimerCount()).toBe(1);
    expect(passes).toHaveLength(1);
    loop.nudge();
    await second;
    expect(passes).toHaveLength(2);
    passes[1]!();
    await loop.stop();
  });

  it('when a pass fails after a nudge, then the error pause is still kept (no spinning on a broken dependency)', async () => {
    const { loop, passes, nextPass } = loopOfIdlePasses({ idleMs: 60_000, errorMs: 60_000, fail: true });
    const first = nextPass();
    loop.start();
    await first;
    loop.nudge();
    passes[0]!();
    // The error pause is the one timer pending; a moment short of its end, the nudge has not started a pass.
    await jest.advanceTimersByTimeAsync(59_999);
    expect(jest.getTimerCount()).toBe(1);
    expect(passes).toHaveLength(1);
    await loop.stop();
  });

  it('when stopped during a pass, then it ends as soon as that pass does, not after the idle pause', async () => {
    const { loop, passes, nextPass } = loopOfIdlePasses({ idleMs: 60_000 });
    const first = nextPass();
    loop.start();
    await first;
    const stopped = loop.stop();
    passes[0]!();
    await stopped;
    expect(passes).toHaveLength(1);
  });

  it('when its stop is handed on as a plain function (as shutdown sequences take it), then it still stops the loop', async () => {
    const { loop, passes, nextPass } = loopOfIdlePasses({ idleMs: 10 });
    const first = nextPass();
    loop.start();
    await first;
    const { stop } = loop;
    const stopped = stop();
    passes[0]!();
    await stopped;
    // No pause is pending, and many idle pauses' worth of time later no pass has begun.
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(passes).toHaveLength(1);
  });
});
