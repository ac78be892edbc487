/** Milliseconds of the id epoch: 2024-01-01T00:00:00Z. 41 bits of ms after it last until 2093. */
export const SNOWFLAKE_EPOCH_MS = Date.UTC(2024, 0, 1);
export const WORKER_BITS = 10;
export const SEQUENCE_BITS = 12;
export const MAX_WORKER_ID = (1 << WORKER_BITS) - 1;
const MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1;

/** How far the clock may step back before we refuse to issue ids rather than wait. */
const MAX_BACKWARD_WAIT_MS = 50;

export class ClockMovedBackwardsError extends Error {
  constructor(readonly driftMs: number) {
    super(`clock moved backwards by ${driftMs} ms; refusing to issue ids`);
    this.name = 'ClockMovedBackwardsError';
  }
}

export interface SnowflakeParts {
  timestampMs: number;
  workerId: number;
  sequence: number;
}

/**
 * Snowflake ids: 41-bit milliseconds since the epoch, 10-bit worker, 12-bit sequence, as decimal strings.
 * Ids from one generator strictly increase. A small backwards clock step is waited out; a large one throws,
 * because issuing ids then could repeat ones already handed out.
 */
export class Snowflake {
  private lastMs = -1;
  private sequence = 0;

  constructor(
    private readonly workerId: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  next(): string {
    let ms = this.now();
    if (ms < this.lastMs) {
      const drift = this.lastMs - ms;
      if (drift > MAX_BACKWARD_WAIT_MS) throw new ClockMovedBackwardsError(drift);
      ms = this.waitUntil(this.lastMs);
    }
    if (ms === this.lastMs) {
      this.sequence = (this.sequence + 1) & MAX_SEQUENCE;
      if (this.sequence === 0) ms = this.waitUntil(this.lastMs + 1);
    } else {
      this.sequence = 0;
    }
    this.lastMs = ms;
    return compose({ timestampMs: ms, workerId: this.workerId(), sequence: this.sequence }).toString();
  }

  private waitUntil(targetMs: number): number {
    let ms = this.now();
    while (ms < targetMs) ms = this.now();
    return ms;
  }
}

export function compose({ timestampMs, workerId, sequence }: SnowflakeParts): bigint {
  if (workerId < 0 || workerId > MAX_WORKER_ID) throw new RangeError(`worker id ${workerId} out of range`);
  return (
    (BigInt(timestampMs - SNOWFLAKE_EPOCH_MS) << BigInt(WORKER_BITS + SEQUENCE_BITS)) |
    (BigInt(workerId) << BigInt(SEQUENCE_BITS)) |
    BigInt(sequence)
  );
}

export function decompose(id: string | bigint): SnowflakeParts {
  const value = BigInt(id);
  return {
    timestampMs: Number(value >> BigInt(WORKER_BITS + SEQUENCE_BITS)) + SNOWFLAKE_EPOCH_MS,
    workerId: Number((value >> BigInt(SEQUENCE_BITS)) & BigInt(MAX_WORKER_ID)),
    sequence: Number(value & BigInt(MAX_SEQUENCE)),
  };
}
