/** Sales whose window has not ended, from the truth (PostgreSQL). */
export interface OpenSaleList {
  listOpen(now: Date): Promise<{ promotionId: string; endsAt: Date }[]>;
}

export type SaleState = 'open' | 'closed' | 'unknown';

interface Entry {
  /** Undefined for a sale only seen selling, whose window no list has given yet. */
  endsAtMs: number | undefined;
  /** The refresh under way when it was noted: a refresh that started before must not close it. */
  epoch: number;
}

/**
 * Which sales are open (preheated or selling, their window not ended), so that the sale's figures name a promotion
 * only while its sale is open: `onClose` hears each sale that ended, once, to drop its series. Sales are learnt
 * from PrepareSale at once and from the list on each `refresh` (sales another replica prepared); a sale seen
 * selling before any of these is `unknown` until the next refresh says.
 */
export class OpenSales {
  private readonly entries = new Map<string, Entry>();
  private readonly closed = new Set<string>();
  private readonly listeners: ((promotionId: string) => void)[] = [];
  private epoch = 0;

  constructor(
    private readonly list: OpenSaleList,
    private readonly clock: () => number = Date.now,
  ) {}

  onClose(listener: (promotionId: string) => void): void {
    this.listeners.push(listener);
  }

  /** A sale prepared here, open until `endsAt`. */
  note(promotionId: string, endsAt: Date): void {
    this.closed.delete(promotionId);
    this.entries.set(promotionId, { endsAtMs: endsAt.getTime(), epoch: this.epoch });
  }

  /** A sale the reserve script found (so it exists): kept for the next refresh to say whether it is open. */
  saw(promotionId: string): void {
    if (this.state(promotionId) === 'unknown')
      this.entries.set(promotionId, { endsAtMs: undefined, epoch: this.epoch });
  }

  state(promotionId: string): SaleState {
    if (this.closed.has(promotionId)) return 'closed';
    const entry = this.entries.get(promotionId);
    if (!entry || entry.endsAtMs === undefined) return 'unknown';
    return entry.endsAtMs > this.clock() ? 'open' : 'closed';
  }

  /** The sales open now. */
  ids(): string[] {
    return [...this.entries.keys()].filter((promotionId) => this.state(promotionId) === 'open');
  }

  /** Takes the open sales from the list; every sale known before that the list lacks, or whose window ended, closed. */
  async refresh(): Promise<void> {
    const epoch = ++this.epoch;
    const listed = await this.list.listOpen(new Date(this.clock()));
    const open = new Set(listed.map((sale) => sale.promotionId));
    for (const [promotionId, entry] of this.entries) {
      // One noted while the list was read may be missing from it: the next refresh decides.
      const unlisted = !open.has(promotionId) && entry.epoch < epoch;
      if (unlisted || (entry.endsAtMs !== undefined && entry.endsAtMs <= this.clock())) this.close(promotionId);
    }
    for (const sale of listed) this.note(sale.promotionId, sale.endsAt);
  }

  private close(promotionId: string): void {
    this.entries.delete(promotionId);
    if (this.closed.has(promotionId)) return;
    this.closed.add(promotionId);
    for (const listener of this.listeners) listener(promotionId);
  }
}
