import type { SqlPool } from '@flash-sale/db';
import { conflict } from '@flash-sale/errors';
import type { LedgerEntry } from '../../domain/ledger';
import type { SaleTerms } from '../../domain/sale';
import type { SaleRepository } from '../../application/ports';
import type { PrismaClient, Reservation as ReservationRow } from '../../generated/prisma/client';

const MAX_LOCK_ATTEMPTS = 10;

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

export class PrismaSaleRepository implements SaleRepository {
  constructor(
    private readonly db: PrismaClient,
    /** The client's own pool, for the ledger consumer's batch statement. */
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
    const row = await this.db.reservation.findUnique({ where: { orderId: BigInt(orderId) } });
    return row ? toEntry(row) : undefined;
  }

  async ledger(promotionId: string): Promise<LedgerEntry[]> {
    const rows = await this.db.reservation.findMany({
      where: { promotionId: BigInt(promotionId) },
      orderBy: { orderId: 'asc' },
    });
    return rows.map(toEntry);
  }

  async changedSince(since: Date): Promise<LedgerEntry[]> {
    const rows = await this.db.reservation.findMany({
      where: { updatedAt: { gte: since } },
      orderBy: { orderId: 'asc' },
    });
    return rows.map(toEntry);
  }

  async listOpenSince(since: Date): Promise<string[]> {
    const rows = await this.db.sale.findMany({ where: { endsAt: { gt: since } }, select: { promotionId: true } });
    return rows.map((row) => row.promotionId.toString());
  }
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** Adds paid units to `sold` under the optimistic lock on `version`, retrying when another writer won. */
async function addSold(tx: Transaction, promotionId: bigint, quantity: number) {
  for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt += 1) {
    const { version } = await tx.sale.findUniqueOrThrow({ where: { promotionId }, select: { version: true } });
    const updated = await tx.sale.updateMany({
      where: { promotionId, version },
      data: { sold: { increment: quantity }, version: { increment: 1 } },
    });
    if (updated.count === 1) return;
  }
  throw conflict('STOCK_VERSION_CONFLICT', `could not update the stock of ${promotionId}; try again`);
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

function toEntry(row: ReservationRow): LedgerEntry {
  return {
    orderId: row.orderId.toString(),
    promotionId: row.promotionId.toString(),
    userId: row.userId,
    quantity: row.quantity,
    amountCents: row.amountCents,
    status: row.status,
    reservedAtMs: row.reservedAt.getTime(),
    idempotencyKey: row.idempotencyKey,
  };
}
