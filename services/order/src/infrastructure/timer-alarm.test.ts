import { TimerAlarm } from './timer-alarm';

describe('TimerAlarm', () => {
  let now = 0;
  let rings = 0;
  const alarm = () =>
    new TimerAlarm(
      () => (rings += 1),
      5_000,
      25,
      () => now,
    );
  const at = (ms: number) => new Date(ms);

  beforeEach(() => {
    jest.useFakeTimers();
    now = 0;
    rings = 0;
  });
  afterEach(() => jest.useRealTimers());

  it('when given several times, then it rings once, at the earliest plus its slack', () => {
    const subject = alarm();
    subject.expect(at(3_000));
    subject.expect(at(1_000));
    subject.expect(at(2_000));
    jest.advanceTimersByTime(1_024);
    expect(rings).toBe(0);
    jest.advanceTimersByTime(1);
    expect(rings).toBe(1);
    jest.advanceTimersByTime(10_000);
    expect(rings).toBe(1);
  });

  it('when a time is beyond the horizon, then it is left to the periodic sweep', () => {
    const subject = alarm();
    subject.expect(at(5_001));
    jest.advanceTimersByTime(60_000);
    expect(rings).toBe(0);
  });

  it('when a time has already passed, then it rings at once', () => {
    now = 10_000;
    alarm().expect(at(1_000));
    jest.advanceTimersByTime(25);
    expect(rings).toBe(1);
  });

  it('when it has rung, then a later time sets it again', () => {
    const subject = alarm();
    subject.expect(at(1_000));
    jest.advanceTimersByTime(1_025);
    now = 1_025;
    subject.expect(at(2_000));
    jest.advanceTimersByTime(1_000);
    expect(rings).toBe(2);
  });

  it('when stopped, then it does not ring', () => {
    const subject = alarm();
    subject.expect(at(1_000));
    subject.stop();
    jest.advanceTimersByTime(10_000);
    expect(rings).toBe(0);
  });
});
