import { hostname } from 'node:os';
import type { orderSummaryJson, promotionJson } from '../http/mappers';
import { problemOf } from '../http/error-handler';
import type { CallScope } from '../upstreams';
import { HISTORY_SECONDS, LATENCY_SECONDS, RATE_SECONDS, type SaleWindows, type WindowReading } from './sale-windows';
import type { SoldOutTimes } from './sold-out-times';

export type PromotionJson = ReturnType<typeof promotionJson>;
export type OrderSummaryJson = ReturnType<typeof orderSummaryJson>;

/** Where the mesh's figures come from: the public API's operations, as this gateway calls them. */
export interface ConsoleSources {
  /** The first page (newest first) of the promotions in `status` now. */
  list(status: 'ACTIVE' | 'SOLD_OUT' | 'ENDED', pageSize: number, scope: CallScope): Promise<PromotionJson[]>;
  /** A promotion, or undefined when there is none with that id. */
  get(promotionId: string, scope: CallScope): Promise<PromotionJson | undefined>;
  summary(promotionId: string, scope: CallScope): Promise<OrderSummaryJson>;
}

export interface ConsoleFeedOptions {
  /** How long after its end a sale stays on the console. */
  keepEndedMs: number;
  /** Sales shown at most (open ones first, newest first). */
  maxSales: number;
  /** The mesh's figures are read at most this often, however many consoles poll: one read serves them all. */
  maxAgeMs: number;
}

export interface ConsoleSale {
  promotionId: string;
  title: string;
  itemId: string;
  status: string;
  startsAt: string | undefined;
  endsAt: string | undefined;
  stock: number;
  /** The mesh's: inventory's Redis counter, through the promotion service. */
  availableStock: number;
  /** The mesh's: inventory's SoldOut signal, else the last order's time once the stock is gone. */
  soldOut: { at: string; source: 'signal' | 'last-order' } | null;
  /** The mesh's: counted from the order rows (GetSaleSummary); null when the order service did not answer. */
  orders: {
    rows: number;
    units: number;
    paid: number;
    paidUnits: number;
    byStatus: OrderSummaryJson['byStatus'];
    lastOrderAt: string | null;
  } | null;
  /** Why `orders` is null (the problem code). */
  ordersError?: string;
  /** This gateway replica's own view of the sale's purchases. */
  gateway: WindowReading | null;
}

export interface ConsoleSnapshot {
  generatedAt: string;
  /** The replica that answered (its host name; the pod's name in Kubernetes). */
  replica: string;
  windows: { rateSeconds: number; latencySeconds: number; historySeconds: number; keepEndedSeconds: number };
  sales: ConsoleSale[];
}

interface MeshFigures {
  promotions: PromotionJson[];
  summaries: Map<string, OrderSummaryJson | { error: string }>;
}

const OPEN = new Set(['ACTIVE', 'SOLD_OUT']);

/**
 * The console's JSON: each open or recently ended sale, with the mesh's figures (stock, orders, payments, read
 * through the public API) and this replica's window of purchase outcomes.
 */
export class ConsoleFeed {
  private cached: { at: number; figures: Promise<MeshFigures> } | undefined;
  /** Ids this replica tracks that turned out to have ended long ago: not looked up again. */
  private readonly longEnded = new Set<string>();

  constructor(
    private readonly sources: ConsoleSources,
    private readonly windows: SaleWindows,
    private readonly soldOutTimes: SoldOutTimes,
    private readonly options: ConsoleFeedOptions = { keepEndedMs: 5 * 60_000, maxSales: 24, maxAgeMs: 400 },
    private readonly now: () => number = Date.now,
    private readonly replica: string = hostname(),
  ) {}

  /** The snapshot; `scope` is the admin asking (the order summary needs an admin caller). */
  async snapshot(scope: CallScope): Promise<ConsoleSnapshot> {
    const { promotions, summaries } = await this.figures(scope);
    return {
      generatedAt: new Date(this.now()).toISOString(),
      replica: this.replica,
      windows: {
        rateSeconds: RATE_SECONDS,
        latencySeconds: LATENCY_SECONDS,
        historySeconds: HISTORY_SECONDS,
        keepEndedSeconds: this.options.keepEndedMs / 1000,
      },
      sales: promotions.map((promotion) => this.sale(promotion, summaries.get(promotion.id))),
    };
  }

  private sale(promotion: PromotionJson, summary: OrderSummaryJson | { error: string } | undefined): ConsoleSale {
    const counted = summary && !('error' in summary) ? summary : undefined;
    const signalled = this.soldOutTimes.get(promotion.id);
    const gone = promotion.availableStock === 0 && promotion.status !== 'ACTIVE';
    const soldOut = signalled
      ? { at: signalled.toISOString(), source: 'signal' as const }
      : gone && counted?.lastOrderAt
        ? { at: counted.lastOrderAt, source: 'last-order' as const }
        : null;
    return {
      promotionId: promotion.id,
      title: promotion.title,
      itemId: promotion.itemId,
      status: promotion.status,
      startsAt: promotion.startsAt,
      endsAt: promotion.endsAt,
      stock: promotion.stock,
      availableStock: promotion.availableStock,
      soldOut,
      orders: counted
        ? {
            rows: counted.orders,
            units: counted.units,
            paid: counted.byStatus.PAID.orders,
            paidUnits: counted.byStatus.PAID.units,
            byStatus: counted.byStatus,
            lastOrderAt: counted.lastOrderAt ?? null,
          }
        : null,
      ...(summary && 'error' in summary ? { ordersError: summary.error } : {}),
      gateway: this.windows.read(promotion.id) ?? null,
    };
  }

  /** The mesh's figures, read once per `maxAgeMs` for every caller; a failed read is not kept. */
  private figures(scope: CallScope): Promise<MeshFigures> {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.options.maxAgeMs) return this.cached.figures;
    const figures = this.read(scope, now);
    const entry = { at: now, figures };
    this.cached = entry;
    figures.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return figures;
  }

  private async read(scope: CallScope, now: number): Promise<MeshFigures> {
    const recent = (promotion: PromotionJson) =>
      OPEN.has(promotion.status) ||
      (promotion.status === 'ENDED' && Date.parse(promotion.endsAt ?? '') >= now - this.options.keepEndedMs);
    const lists = await Promise.all([
      this.sources.list('ACTIVE', 100, scope),
      this.sources.list('SOLD_OUT', 100, scope),
      this.sources.list('ENDED', 20, scope),
    ]);
    const shown = new Map<string, PromotionJson>();
    for (const promotion of lists.flat()) if (recent(promotion)) shown.set(promotion.id, promotion);
    // Sales this replica sold for that the lists above missed (an old sale that ended a moment ago).
    const missing = this.windows.ids().filter((id) => !shown.has(id) && !this.longEnded.has(id));
    const found = await Promise.all(missing.map((id) => this.sources.get(id, scope).catch(() => undefined)));
    for (const promotion of found) {
      if (!promotion) continue;
      if (recent(promotion)) shown.set(promotion.id, promotion);
      else if (promotion.status === 'ENDED') this.remember(promotion.id);
    }
    const promotions = [...shown.values()]
      .sort((a, b) => Number(OPEN.has(b.status)) - Number(OPEN.has(a.status)) || newestFirst(a.id, b.id))
      .slice(0, this.options.maxSales);
    const summaries = new Map(
      await Promise.all(
        promotions.map(async (promotion) => {
          const summary = await this.sources
            .summary(promotion.id, scope)
            .catch((error: unknown) => ({ error: problemOf(error).code }));
          return [promotion.id, summary] as const;
        }),
      ),
    );
    return { promotions, summaries };
  }

  private remember(id: string): void {
    if (this.longEnded.size >= 1_000) this.longEnded.clear();
    this.longEnded.add(id);
  }
}

const newestFirst = (a: string, b: string) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0);
