/**
 * Exponential backoff per key (a topic-partition): the first failure waits `initialMs`, each further one twice as
 * long up to `maxMs`, with up to 20% jitter so partitions that failed together do not retry in lockstep. A
 * success forgets the key.
 */
export class Backoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure and returns how long to wait before the next attempt. */
  failed(key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(count - 1, 30));
    return Math.round(base * (0.8 + 0.2 * this.random()));
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
