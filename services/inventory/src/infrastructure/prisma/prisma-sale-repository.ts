import type { SqlPool } from '@flash-sale/db';
import { precondition } from '@flash-sale/errors';
import type { LedgerEntry } from '../../domain/ledger';
import type { SaleTerms } from '../../domain/sale';
import type { OpenSaleList } from '../../application/open-sales';
import type { SaleRepository } from '../../application/ports';
import type { PrismaClient, Reservation as ReservationRow } from '../../generated/prisma/client';

const RECORD_RESERVED = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
      AS r(order_id, promotion_id, user_id, quantity, amount_cents, idempotency_key, reserved_at)
  ), known AS (
    SELECT promotion_id FROM sales WHERE promotion_id IN (SELECT promotion_id::bigint FROM input)
  ), recorded AS (
    INSERT INTO reservations
      (order_id, promotion_id, user_id, quantity, amount_cents, idempotency_key, status, reserved_at, updated_at)
    SELECT order_id::bigint, promotion_id::bigint, user_id, quantity, amount_cents::bigint, idempotency_key,
           'RESERVED', reserved_at::timestamptz, $8
      FROM input WHERE promotion_id::bigint IN (SELECT promotion_id FROM known)
    ON CONFLICT (order_id) DO NOTHING
  )
  SELECT order_id AS "orderId" FROM input WHERE promotion_id::bigint NOT IN (SELECT promotion_id FROM known)`;

/** How many ledger rows one read brings (see `pages`). */
const PAGE_ROWS = 1000;

const ENTRY_COLUMNS = `order_id::text AS "orderId", promotion_id::text AS "promotionId", user_id AS "userId",
  quantity, amount_cents::text AS "amountCents", status::text AS status, reserved_at AS "reservedAt",
  idempotency_key AS "idempotencyKey", updated_at AS "updatedAt"`;

const ENTRY = `SELECT ${ENTRY_COLUMNS} FROM reservations WHERE order_id = $1::bigint`;

const LEDGER_PAGE = `SELECT ${ENTRY_COLUMNS} FROM reservations
  WHERE promotion_id = $1::bigint AND order_id > $2::bigint ORDER BY order_id LIMIT $3`;

const CHANGED_PAGE = `SELECT ${ENTRY_COLUMNS} FROM reservations
  WHERE updated_at >= $1 AND (updated_at, order_id) > ($2::timestamptz, $3::bigint)
    AND (status <> 'RESERVED' OR reserved_at < $5)
  ORDER BY updated_at, order_id LIMIT $4`;

interface EntryRow {
  orderId: string;
  promotionId: string;
  userId: string;
  quantity: number;
  amountCents: string;
  status: LedgerEntry['status'];
  reservedAt: Date;
  idempotencyKey: string;
  updatedAt: Date;
}

export class PrismaSaleRepository implements SaleRepository, OpenSaleList {
  constructor(
    private readonly db: PrismaClient,
    /** The client's own pool, for the ledger consumer's batch statement and the reconciler's reads. */
    private readonly sql: SqlPool,
  ) {}

  async upsert(terms: SaleTerms): Promise<{ total: number; sold: number }> {
    const changeable = {
      priceCents: terms.priceCents,
      perUserLimit: terms.perUserLimit,
      startsAt: terms.startsAt,
      endsAt: terms.endsAt,
      paymentTimeoutSeconds: terms.paymentTimeoutSeconds,
    };
    const row = await this.db.sale.upsert({
      where: { promotionId: BigInt(terms.promotionId) },
      create: { promotionId: BigInt(terms.promotionId), totalStock: terms.totalStock, ...changeable },
      update: changeable,
    });
    return { total: row.totalStock, sold: row.sold };
  }

  async find(promotionId: string): Promise<(SaleTerms & { sold: number }) | undefined> {
    const row = await this.db.sale.findUnique({ where: { promotionId: BigInt(promotionId) } });
    if (!row) return undefined;
    return {
      promotionId,
      priceCents: row.priceCents,
      totalStock: row.totalStock,
      perUserLimit: row.perUserLimit,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      paymentTimeoutSeconds: row.paymentTimeoutSeconds,
      sold: row.sold,
    };
  }

  async recordReserved(entries: readonly LedgerEntry[]): Promise<LedgerEntry[]> {
    if (entries.length === 0) return [];
    // One statement whatever the batch's size (Prisma's createMany plans each size anew), sent by node-postgres
    // itself (see `createDatabase`). An event of a sale this database does not know (restored from an older
    // backup, or reset) cannot be recorded; it is returned, for the caller to report, instead of blocking the
    // whole stream.
    const orphans = await this.sql.query<{ orderId: string }>(RECORD_RESERVED, [
      entries.map((entry) => entry.orderId),
      entries.map((entry) => entry.promotionId),
      entries.map((entry) => entry.userId),
      entries.map((entry) => entry.quantity),
      entries.map((entry) => entry.amountCents.toString()),
      entries.map((entry) => entry.idempotencyKey),
      entries.map((entry) => new Date(entry.reservedAtMs).toISOString()),
      new Date(),
    ]);
    const skipped = new Set(orphans.map((row) => row.orderId));
    return entries.filter((entry) => skipped.has(entry.orderId));
  }

  async settle(entry: LedgerEntry, to: 'RELEASED' | 'CONFIRMED'): Promise<boolean> {
    const orderId = BigInt(entry.orderId);
    return this.db.$transaction(async (tx) => {
      // The ledger may not have heard of the reservation yet (its consumer lags): record it settled at once.
      const inserted = await tx.reservation.createMany({ data: [toRow(entry, to)], skipDuplicates: true });
      if (inserted.count === 0) {
        const moved = await tx.reservation.updateMany({ where: { orderId, status: 'RESERVED' }, data: { status: to } });
        if (moved.count === 0) return false;
      }
      if (to === 'CONFIRMED') await addSold(tx, BigInt(entry.promotionId), entry.quantity);
      return true;
    });
  }

  async findEntry(orderId: string): Promise<LedgerEntry | undefined> {
    const [row] = await this.sql.query<EntryRow>(ENTRY, [orderId]);
    return row ? toEntry(row) : undefined;
  }

  ledgerPages(promotionId: string): AsyncIterable<LedgerEntry[]> {
    return this.pages(LEDGER_PAGE, (after, limit) => [promotionId, after?.orderId ?? '-1', limit]);
  }

  /** A sale's whole ledger at once (for tests and small sales; the service reads `ledgerPages`). */
  async ledger(promotionId: string): Promise<LedgerEntry[]> {
    return all(this.ledgerPages(promotionId));
  }

  async changedSince(since: Date, reservedBefore: Date): Promise<LedgerEntry[]> {
    return all(
      this.pages(CHANGED_PAGE, (after, limit) => [
        since,
        after?.updatedAt ?? since,
        after?.orderId ?? '-1',
        limit,
        reservedBefore,
      ]),
    );
  }

  /**
   * Reads a query keyed on its last row, PAGE_ROWS rows at a time, so a ledger of a million reservations never
   * turns into one result that holds the event loop (and the hot path with it) while it is parsed, nor into one
   * list that outgrows the heap. Straight to node-postgres: through Prisma, mapping the rows cost more CPU than
   * reading them.
   */
  private async *pages(page: string, params: (after: EntryRow | undefined, limit: number) => unknown[]) {
    let after: EntryRow | undefined;
    for (;;) {
      const rows = await this.sql.query<EntryRow>(page, params(after, PAGE_ROWS));
      yield rows.map(toEntry);
      if (rows.length < PAGE_ROWS) return;
      after = rows[rows.length - 1];
    }
  }

  async listOpen(now: Date): Promise<{ promotionId: string; endsAt: Date }[]> {
    const rows = await this.db.sale.findMany({
      where: { endsAt: { gt: now } },
      select: { promotionId: true, endsAt: true },
    });
    return rows.map((row) => ({ promotionId: row.promotionId.toString(), endsAt: row.endsAt }));
  }

  async listOpenSince(since: Date): Promise<string[]> {
    const rows = await this.db.sale.findMany({ where: { endsAt: { gt: since } }, select: { promotionId: true } });
    return rows.map((row) => row.promotionId.toString());
  }
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * Adds paid units to `sold` in one guarded update: PostgreSQL counts them only while `sold` stays within the stock
 * (the row lock orders concurrent payers), and the CHECK constraint sales_sold_within_stock holds it for any other
 * writer. A refusal means Redis let more units be reserved than the sale has: it rolls the settlement back and is
 * reported, never counted.
 */
async function addSold(tx: Transaction, promotionId: bigint, quantity: number) {
  const added = await tx.$executeRaw`
    UPDATE sales SET sold = sold + ${quantity}, version = version + 1, updated_at = now()
     WHERE promotion_id = ${promotionId} AND sold + ${quantity} <= total_stock`;
  if (added === 1) return;
  const sale = await tx.sale.findUniqueOrThrow({ where: { promotionId }, select: { sold: true, totalStock: true } });
  throw precondition(
    'OVERSELL_REFUSED',
    `PostgreSQL refused to count ${quantity} more unit(s) of sale ${promotionId} as sold: ` +
      `${sale.sold} of ${sale.totalStock} are sold already`,
    { promotion_id: promotionId.toString(), sold: String(sale.sold), total_stock: String(sale.totalStock) },
  );
}

function toRow(entry: LedgerEntry, status: ReservationRow['status']) {
  return {
    orderId: BigInt(entry.orderId),
    promotionId: BigInt(entry.promotionId),
    userId: entry.userId,
    quantity: entry.quantity,
    amountCents: entry.amountCents,
    idempotencyKey: entry.idempotencyKey,
    status,
    reservedAt: new Date(entry.reservedAtMs),
  };
}

function toEntry(row: EntryRow): LedgerEntry {
  return {
    orderId: row.orderId,
    promotionId: row.promotionId,
    userId: row.userId,
    quantity: row.quantity,
    amountCents: BigInt(row.amountCents),
    status: row.status,
    reservedAtMs: row.reservedAt.getTime(),
    idempotencyKey: row.idempotencyKey,
  };
}

/** Every page's entries in one list. */
async function all(pages: AsyncIterable<LedgerEntry[]>): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for await (const page of pages) entries.push(...page);
  return entries;
}
