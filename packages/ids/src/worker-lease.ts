import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MAX_WORKER_ID, Snowflake } from './snowflake';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface WorkerLeaseOptions {
  /** Who holds it, for operators reading Redis (e.g. service name and pod). */
  holder: string;
  ttlMs?: number;
  keyPrefix?: string;
  onLost?: (workerId: number) => void;
}

/**
 * A Snowflake worker id leased in Redis (`SET NX PX`, renewed at a third of its TTL), so that no two running
 * processes share one without anybody configuring ids by hand. When a renewal finds the lease gone (Redis
 * flushed, process paused past its TTL) `workerId()` throws (issuing ids that another process may also issue
 * would be worse than failing the call) until the next tick leases a free id again, so a Redis restart costs a
 * few failed calls instead of a dead process.
 */
export class WorkerLease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private renewedAt = Date.now();
  private readonly token = randomUUID();

  private constructor(
    private readonly redis: Redis,
    private id: number,
    private readonly options: Required<Omit<WorkerLeaseOptions, 'onLost'>> & Pick<WorkerLeaseOptions, 'onLost'>,
  ) {}

  static async acquire(redis: Redis, options: WorkerLeaseOptions): Promise<WorkerLease> {
    const lease = new WorkerLease(redis, -1, { ttlMs: 30_000, keyPrefix: 'flashsale:snowflake-worker:', ...options });
    if (!(await lease.lease())) throw new Error('no free Snowflake worker id: all 1024 are leased');
    lease.schedule();
    return lease;
  }

  /** Takes the first free id from a random start; false when all are leased. */
  private async lease(): Promise<boolean> {
    const start = Math.floor(Math.random() * (MAX_WORKER_ID + 1));
    for (let offset = 0; offset <= MAX_WORKER_ID; offset += 1) {
      const id = (start + offset) % (MAX_WORKER_ID + 1);
      if ((await this.redis.set(this.keyOf(id), this.value(), 'PX', this.options.ttlMs, 'NX')) === 'OK') {
        this.id = id;
        this.lost = false;
        this.renewedAt = Date.now();
        return true;
      }
    }
    return false;
  }

  /** The leased id; throws once the lease is lost. */
  workerId = (): number => {
    // A lease not renewed within its TTL may already belong to someone else, even if Redis never said so.
    if (this.lost || Date.now() - this.renewedAt > this.options.ttlMs) {
      throw new Error(`Snowflake worker lease ${this.id} was lost`);
    }
    return this.id;
  };

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.lost) await this.redis.eval(RELEASE, 1, this.keyOf(this.id), this.value());
  }

  /** The id held now (it changes after a lost lease is replaced). */
  get currentId(): number {
    return this.id;
  }

  private keyOf(id: number) {
    return `${this.options.keyPrefix}${id}`;
  }

  private value() {
    return `${this.options.holder}:${this.token}`;
  }

  private schedule() {
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.options.ttlMs / 3)));
    this.timer.unref();
  }

  private async renew() {
    try {
      if (!this.lost) {
        if ((await this.redis.eval(RENEW, 1, this.keyOf(this.id), this.value(), this.options.ttlMs)) === 1) {
          this.renewedAt = Date.now();
          return;
        }
        this.lost = true;
        this.options.onLost?.(this.id);
      }
      await this.lease();
    } catch {
      // Redis unreachable: the lease still holds until its TTL; the next tick tries again.
    }
  }
}

/** Leases a worker id for `holder` and returns a Snowflake generator bound to it, with the lease to release. */
export async function leaseSnowflake(
  redis: Redis,
  holder: string,
  onLost: (workerId: number) => void,
): Promise<{ ids: Snowflake; lease: WorkerLease }> {
  const lease = await WorkerLease.acquire(redis, { holder, onLost });
  return { ids: new Snowflake(lease.workerId), lease };
}
