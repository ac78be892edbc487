import type { Logger } from '@flash-sale/logging';

export interface PumpLoopOptions {
  name: string;
  /** Pause after a pass that found nothing to do. */
  idleMs: number;
  /** Pause after a pass that failed, before trying again. */
  errorMs?: number;
  /**
   * Pause after a pass that found work, so that the next one finds a batch rather than a single item (a nudge
   * does not cut it short). Trades that much latency for far fewer, larger round trips under load; default 0.
   */
  batchMs?: number;
}

/**
 * Runs `pass` over and over: straight on while it finds work, after `idleMs` when it found none, after
 * `errorMs` when it threw (logged, never fatal). `nudge()` cuts a pause short when new work is known to exist; a
 * nudge that arrives during a pass is kept, so the next pass follows at once instead of after the pause.
 */
export class PumpLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;

  constructor(
    private readonly pass: () => Promise<number>,
    private readonly logger: Logger,
    private readonly options: PumpLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Ends the loop once the pass in progress has; an arrow, so that shutdown sequences can take it as it is. */
  stop = async (): Promise<void> => {
    this.running = false;
    this.wake?.();
    await this.loop;
  };

  private async run() {
    while (this.running) {
      this.nudged = false;
      try {
        if ((await this.pass()) === 0) await this.pause(this.options.idleMs);
        else if (this.options.batchMs) await new Promise((resolve) => setTimeout(resolve, this.options.batchMs));
      } catch (error) {
        this.logger.error({ err: error, loop: this.options.name }, 'pass failed; retrying');
        // A nudge kept from the failed pass does not skip this pause: retrying at once would spin.
        await this.pause(this.options.errorMs ?? 1_000, false);
      }
    }
  }

  private pause(ms: number, keptNudgeEndsIt = true) {
    return new Promise<void>((resolve) => {
      if ((keptNudgeEndsIt && this.nudged) || !this.running) return resolve();
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
