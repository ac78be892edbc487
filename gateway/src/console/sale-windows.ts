/**
 * What this gateway replica saw of each sale's purchases, for the live console: per promotion, a ring of one-second
 * buckets (outcome counts and a latency histogram), so memory is bounded by the number of promotions tracked and
 * never grows with the traffic. Rates and percentiles read the last few buckets.
 */

/** `ACCEPTED`, `REPLAYED` (an idempotent replay) or the refusal's problem code (`SOLD_OUT`, `RATE_LIMITED`, ...). */
export type Outcome = string;

export const ACCEPTED = 'ACCEPTED';
export const REPLAYED = 'REPLAYED';

/** Seconds the rates are averaged over. */
export const RATE_SECONDS = 5;
/** Seconds the latency percentiles are taken over. */
export const LATENCY_SECONDS = 10;
/** Seconds of per-second history kept (and returned as the series). */
export const HISTORY_SECONDS = 60;
/** Distinct outcomes kept per promotion; any further code is counted as `OTHER`. */
const MAX_OUTCOMES = 16;

// Latency histogram: logarithmic bins from 0.05 ms, each 15% wider than the one before (about ±7% on a percentile),
// the last one open-ended at about a minute.
const MIN_MS = 0.05;
const GROWTH = 1.15;
const BINS = 100;
const binOf = (ms: number) =>
  ms <= MIN_MS ? 0 : Math.min(BINS - 1, Math.floor(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
/** The middle of a bin (geometric), in milliseconds. */
const valueOf = (bin: number) => MIN_MS * GROWTH ** (bin + 0.5);

interface Bucket {
  second: number;
  counts: Map<Outcome, number>;
  latency: Uint32Array;
  answered: number;
}

export interface WindowReading {
  acceptedPerSecond: number;
  replayedPerSecond: number;
  /** By refusal code; codes without refusals in the window are left out. */
  refusedPerSecond: Record<string, number>;
  /** Over every purchase answered in the last LATENCY_SECONDS (accepted or not); null without any. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Since this replica started tracking the promotion. */
  totals: Record<Outcome, number>;
  /** Per second, oldest first, the last HISTORY_SECONDS (the current second last). */
  series: { accepted: number[]; refused: number[] };
  /** When this replica saw the promotion's first purchase answer (ISO). */
  since: string;
}

class PromotionWindow {
  private readonly buckets: (Bucket | undefined)[] = new Array<Bucket | undefined>(HISTORY_SECONDS);
  private readonly totals = new Map<Outcome, number>();
  readonly firstAt: number;
  touchedAt: number;

  constructor(now: number) {
    this.firstAt = now;
    this.touchedAt = now;
  }

  record(outcome: Outcome, latencyMs: number, now: number): void {
    this.touchedAt = now;
    const bucket = this.bucketAt(Math.floor(now / 1000));
    const kept = this.totals.has(outcome) || this.totals.size < MAX_OUTCOMES ? outcome : 'OTHER';
    bucket.counts.set(kept, (bucket.counts.get(kept) ?? 0) + 1);
    this.totals.set(kept, (this.totals.get(kept) ?? 0) + 1);
    bucket.latency[binOf(latencyMs)]! += 1;
    bucket.answered += 1;
  }

  read(now: number): WindowReading {
    const second = Math.floor(now / 1000);
    // The current second is partly over: the rate divides by the time the window really covers, and never by more
    // than the time since the first answer (a sale that began 2 s ago is not averaged over 5).
    const covered = RATE_SECONDS - 1 + (now % 1000) / 1000;
    const duration = Math.max(0.25, Math.min(covered, (now - this.firstAt) / 1000));
    const inRate = new Map<Outcome, number>();
    const latency = new Uint32Array(BINS);
    let answered = 0;
    const accepted: number[] = [];
    const refused: number[] = [];
    for (let back = HISTORY_SECONDS - 1; back >= 0; back -= 1) {
      const bucket = this.current(second - back);
      let refusedThen = 0;
      for (const [outcome, count] of bucket?.counts ?? []) {
        if (back < RATE_SECONDS) inRate.set(outcome, (inRate.get(outcome) ?? 0) + count);
        if (outcome !== ACCEPTED && outcome !== REPLAYED) refusedThen += count;
      }
      accepted.push(bucket?.counts.get(ACCEPTED) ?? 0);
      refused.push(refusedThen);
      if (bucket && back < LATENCY_SECONDS) {
        answered += bucket.answered;
        for (let bin = 0; bin < BINS; bin += 1) latency[bin]! += bucket.latency[bin]!;
      }
    }
    const rate = (count: number) => Math.round((count / duration) * 10) / 10;
    const refusedPerSecond: Record<string, number> = {};
    for (const [outcome, count] of inRate) {
      if (outcome !== ACCEPTED && outcome !== REPLAYED) refusedPerSecond[outcome] = rate(count);
    }
    return {
      acceptedPerSecond: rate(inRate.get(ACCEPTED) ?? 0),
      replayedPerSecond: rate(inRate.get(REPLAYED) ?? 0),
      refusedPerSecond,
      p50Ms: percentile(latency, answered, 0.5),
      p99Ms: percentile(latency, answered, 0.99),
      totals: Object.fromEntries(this.totals),
      series: { accepted, refused },
      since: new Date(this.firstAt).toISOString(),
    };
  }

  /** The bucket of `second` if it still holds that second. */
  private current(second: number): Bucket | undefined {
    const bucket = this.buckets[mod(second, HISTORY_SECONDS)];
    return bucket?.second === second ? bucket : undefined;
  }

  private bucketAt(second: number): Bucket {
    const slot = mod(second, HISTORY_SECONDS);
    let bucket = this.buckets[slot];
    if (!bucket) {
      bucket = { second, counts: new Map(), latency: new Uint32Array(BINS), answered: 0 };
      this.buckets[slot] = bucket;
    } else if (bucket.second !== second) {
      bucket.second = second;
      bucket.counts.clear();
      bucket.latency.fill(0);
      bucket.answered = 0;
    }
    return bucket;
  }
}

const mod = (value: number, by: number) => ((value % by) + by) % by;

function percentile(histogram: Uint32Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let bin = 0; bin < BINS; bin += 1) {
    seen += histogram[bin]!;
    if (seen >= rank) return Math.round(valueOf(bin) * 100) / 100;
  }
  return Math.round(valueOf(BINS - 1) * 100) / 100;
}

export interface SaleWindowOptions {
  /** Promotions tracked at once; beyond it the one idle longest is dropped. */
  maxPromotions: number;
  /** A promotion without any purchase answer for this long is dropped. */
  keepMs: number;
}

/** The windows of every promotion this replica tracks. */
export class SaleWindows {
  private readonly windows = new Map<string, PromotionWindow>();

  constructor(
    private readonly options: SaleWindowOptions = { maxPromotions: 64, keepMs: 5 * 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One purchase answer. `admit`: whether this answer may start tracking a promotion not tracked yet; only answers
   * that prove the promotion exists should (an accepted purchase, a refusal by the sale's state), so that requests
   * for made-up ids cannot fill the table.
   */
  record(promotionId: string, outcome: Outcome, latencyMs: number, admit: boolean): void {
    const now = this.now();
    let window = this.windows.get(promotionId);
    if (!window) {
      if (!admit) return;
      this.forgetIdle(now);
      if (this.windows.size >= this.options.maxPromotions) this.dropIdlest();
      window = new PromotionWindow(now);
      this.windows.set(promotionId, window);
    }
    window.record(outcome, latencyMs, now);
  }

  read(promotionId: string): WindowReading | undefined {
    const now = this.now();
    const window = this.windows.get(promotionId);
    if (!window) return undefined;
    if (now - window.touchedAt > this.options.keepMs) {
      this.windows.delete(promotionId);
      return undefined;
    }
    return window.read(now);
  }

  /** The promotions tracked now. */
  ids(): string[] {
    this.forgetIdle(this.now());
    return [...this.windows.keys()];
  }

  private forgetIdle(now: number): void {
    for (const [id, window] of this.windows) {
      if (now - window.touchedAt > this.options.keepMs) this.windows.delete(id);
    }
  }

  private dropIdlest(): void {
    let idlest: [string, number] | undefined;
    for (const [id, window] of this.windows) {
      if (!idlest || window.touchedAt < idlest[1]) idlest = [id, window.touchedAt];
    }
    if (idlest) this.windows.delete(idlest[0]);
  }
}
