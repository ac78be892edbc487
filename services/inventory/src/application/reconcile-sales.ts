import type { Logger } from '@flash-sale/logging';
import type { LedgerEntry } from '../domain/ledger';
import { SALE_RETENTION_MS } from '../domain/sale';
import { LEDGER_CATCH_UP_MS } from './prepare-sale';
import type { LedgerProgress, SaleRepository, StockCache } from './ports';

export interface Drift {
  promotionId: string;
  /** Redis had lost the sale entirely and was rebuilt from the ledger. */
  rebuilt: boolean;
  /** Redis had lost the sale, but the ledger had not caught up yet: left closed until the next pass. */
  deferred?: boolean;
  /** Ledger entries Redis lacked or held in an older state (now merged). */
  entries: number;
  /** The stock counter minus what Redis's held count says it should be (now set right). */
  stock: number;
  /** The held count minus what a completed recount of Redis's reservations found (now set right). */
  held?: number;
  /** The stock counter could not be checked: the held count is unknown and its recount was inconclusive. */
  unchecked?: boolean;
}

export interface ReconcileOptions {
  /** How often a pass compares every open sale's whole ledger with Redis. */
  fullEveryMs: number;
  /** How far before the previous pass a pass between full ones reads changed entries again (clocks, commits). */
  overlapMs: number;
}

/**
 * How long after a Redis server was first seen (or last lost a sale) its reservations are still read back: the
 * clocks of a failed primary (which stamped the reservations it lost) and of the replica that took over may differ
 * by this much.
 */
export const REDIS_CLOCK_MARGIN_MS = 10_000;

/**
 * What the previous successful pass saw: Redis's identity; since when (by Redis's clock) it has lost nothing this
 * reconciler knows of, that is when it first saw that server or last rebuilt a sale the server had lost (a FLUSHALL,
 * an eviction: the same server); and when (by its own clock) the previous pass and the last full one started.
 */
export interface PassState {
  epoch: string;
  intactSince: number;
  passAt: number;
  fullAt: number;
}

export type Pass = { kind: 'full' } | { kind: 'changes'; since: Date; reservedBefore: Date };

/**
 * A pass reads every open sale's whole ledger on the first run, whenever Redis is another server than last
 * time (restarted, failed over, restored from a snapshot: it may have gone back in time) and every
 * `fullEveryMs`; between those it reads only the entries changed since shortly before the previous pass.
 *
 * Of those, it leaves out reservations still `RESERVED` that were made after this Redis server was first seen, or
 * after it last lost a sale (plus `REDIS_CLOCK_MARGIN_MS`): the ledger learned them from this server's own outbox,
 * so it holds them, in that state or a later one. During a sale they are nearly every change, tens of thousands a
 * minute, and reading them back and merging them held the hot path for up to a second per pass. Settled entries are
 * always read (the ledger is written before Redis), and so are reservations made before that: one that a lost
 * Redis forgot can reach the ledger after the pass that saw the loss (its relay was still sending it), and is
 * merged then. (A failed primary that went on taking reservations after the failover, cut off from its replicas,
 * is the one case left to the next full pass.)
 */
export function planPass(last: PassState | undefined, epoch: string, now: number, options: ReconcileOptions): Pass {
  if (!last || last.epoch !== epoch || now - last.fullAt >= options.fullEveryMs) return { kind: 'full' };
  return {
    kind: 'changes',
    since: new Date(last.passAt - options.overlapMs),
    reservedBefore: new Date(last.intactSince + REDIS_CLOCK_MARGIN_MS),
  };
}

/** What a caller hears of the reconciler: every sale it compared, and every pass it completed. */
export interface ReconcileHooks {
  report?: (drift: Drift) => void;
  passed?: (pass: { kind: Pass['kind']; sales: number; ms: number }) => void;
}

export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = { fullEveryMs: 15 * 60_000, overlapMs: 60_000 };

/**
 * Compares open sales' Redis counters with the PostgreSQL truth and repairs what differs: a sale Redis lost is
 * rebuilt; ledger entries missing from Redis (or released or paid there too late) are merged; a stock counter
 * that disagrees with Redis's held count is set right. Reports every sale it compared.
 *
 * Reading whole ledgers costs as much as every reservation of the last week, so it happens only on full passes
 * (see `planPass`); the passes between merge the entries that changed and check the sales they belong to. Each
 * pass still checks that Redis holds every open sale. The stock check is O(1) against the held count the scripts
 * keep; that count is itself recounted from the reservations (thousands of small calls at a million) on full
 * passes only, before the check, and on any pass that finds it unknown.
 */
export class ReconcileSales {
  private last: PassState | undefined;

  constructor(
    private readonly sales: SaleRepository,
    private readonly cache: StockCache,
    private readonly progress: LedgerProgress,
    private readonly logger: Logger,
    private readonly options: ReconcileOptions = DEFAULT_RECONCILE_OPTIONS,
    private readonly hooks: ReconcileHooks = {},
  ) {}

  async run(now = new Date()): Promise<Drift[]> {
    // Read before the pass: a Redis that restarts during it is another epoch for the next one.
    const { id: epoch, nowMs: redisNow } = await this.cache.epoch();
    const pass = planPass(this.last, epoch, now.getTime(), this.options);
    const changed =
      pass.kind === 'changes' ? byPromotion(await this.sales.changedSince(pass.since, pass.reservedBefore)) : undefined;
    const drifts: Drift[] = [];
    let rebuilt = false;
    const started = performance.now();
    const open = await this.sales.listOpenSince(new Date(now.getTime() - SALE_RETENTION_MS));
    for (const promotionId of open) {
      const drift = await this.reconcile(promotionId, changed);
      if (!drift) continue;
      rebuilt ||= drift.rebuilt;
      this.hooks.report?.(drift);
      if (drift.rebuilt || drift.deferred || drift.entries !== 0 || drift.stock !== 0 || (drift.held ?? 0) !== 0) {
        this.logger.warn({ ...drift }, 'inventory drift found and repaired');
        drifts.push(drift);
      }
    }
    const passAt = now.getTime();
    this.last = {
      epoch,
      intactSince: this.last?.epoch === epoch && !rebuilt ? this.last.intactSince : redisNow,
      passAt,
      fullAt: pass.kind === 'full' ? passAt : this.last!.fullAt,
    };
    this.hooks.passed?.({ kind: pass.kind, sales: open.length, ms: performance.now() - started });
    return drifts;
  }

  /** `changed` undefined: a full pass. Returns nothing for a sale that had no changes and is still in Redis. */
  private async reconcile(promotionId: string, changed?: Map<string, LedgerEntry[]>): Promise<Drift | undefined> {
    if (!(await this.cache.isOpen(promotionId))) {
      const terms = await this.sales.find(promotionId);
      if (terms) {
        if (!(await this.progress.catchUp(LEDGER_CATCH_UP_MS))) {
          return { promotionId, rebuilt: false, deferred: true, entries: 0, stock: 0 };
        }
        const { merged } = await this.cache.rebuild(terms, this.sales.ledgerPages(promotionId));
        return { promotionId, rebuilt: true, entries: merged, stock: 0 };
      }
    }
    let merged = 0;
    if (changed) {
      const entries = changed.get(promotionId);
      if (!entries) return undefined;
      merged = await this.cache.merge(promotionId, entries);
    } else {
      for await (const page of this.sales.ledgerPages(promotionId)) merged += await this.cache.merge(promotionId, page);
    }
    const full = !changed;
    let stock = full ? undefined : await this.cache.checkStock(promotionId, true);
    let held: number | undefined;
    if (full || stock === undefined) {
      held = await this.recount(promotionId);
      stock = await this.cache.checkStock(promotionId, true);
    }
    return {
      promotionId,
      rebuilt: false,
      entries: merged,
      stock: stock ?? 0,
      ...(held === undefined ? {} : { held }),
      ...(stock === undefined ? { unchecked: true } : {}),
    };
  }

  /** The held count minus what a recount found; undefined when the recount was inconclusive or it was unknown. */
  private async recount(promotionId: string): Promise<number | undefined> {
    const recount = await this.cache.recountHeld(promotionId);
    if (recount.outcome !== 'counted') {
      // Units moved during it (a sale still selling): the next full pass tries again.
      this.logger.debug({ promotionId, ...recount }, 'held count recount inconclusive');
      return undefined;
    }
    if (recount.before === undefined) {
      this.logger.info({ promotionId, held: recount.held, pages: recount.pages }, 'held count restored by a recount');
      return undefined;
    }
    return recount.before - recount.held;
  }
}

function byPromotion(entries: readonly LedgerEntry[]): Map<string, LedgerEntry[]> {
  const groups = new Map<string, LedgerEntry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.promotionId);
    if (group) group.push(entry);
    else groups.set(entry.promotionId, [entry]);
  }
  return groups;
}
