import type { DeadlineAlarm } from '../application/ports';

/**
 * A DeadlineAlarm on one timer: it rings once, `slackMs` after the earliest time it was given. Times further ahead
 * than `horizonMs` are ignored, because the periodic sweep comes round before them and sets the alarm again. The
 * slack lets a wave of deadlines (a sale whose buyers did not pay) be swept in batches rather than one order per
 * transaction, for a few milliseconds of lateness; it also covers a timer firing a millisecond before the wall
 * clock reaches the deadline.
 */
export class TimerAlarm implements DeadlineAlarm {
  private timer: NodeJS.Timeout | undefined;
  private due: number | undefined;

  constructor(
    private readonly ring: () => void,
    private readonly horizonMs: number,
    private readonly slackMs = 25,
    private readonly now: () => number = Date.now,
  ) {}

  expect(at: Date): void {
    const due = at.getTime();
    const delay = due - this.now();
    if (Number.isNaN(due) || delay > this.horizonMs || (this.due !== undefined && this.due <= due)) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, delay) + this.slackMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = this.due = undefined;
  }

  private fire() {
    this.timer = this.due = undefined;
    this.ring();
  }
}
