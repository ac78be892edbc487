/**
 * The ledger's batch insert (one SQL statement for a whole Kafka batch) against the real PostgreSQL: entries of
 * known sales are recorded once, whatever the redeliveries; entries of a sale the database does not know are
 * handed back, not recorded, and do not stop the others. Its change time is what the reconciler reads.
 */
import { join } from 'node:path';
import { applyMigrations, createDatabase, parseDatabaseUrl } from '@flash-sale/db';
import { infra } from '@flash-sale/testing';
import type { LedgerEntry } from '../src/domain/ledger';
import { PrismaClient } from '../src/generated/prisma/client';
import { PrismaSaleRepository } from '../src/infrastructure/prisma/prisma-sale-repository';
import { newId } from './support';

let prisma: PrismaClient;
let sales: PrismaSaleRepository;

beforeAll(async () => {
  const url = infra.databaseUrl('inventory');
  // The tables are used directly here: no inventory service started in this file has migrated them (on a fresh
  // database this file may run first; CI's did).
  await applyMigrations({
    migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
    connection: parseDatabaseUrl(url),
  });
  const { adapter, sql } = createDatabase(url);
  prisma = new PrismaClient({ adapter });
  sales = new PrismaSaleRepository(prisma, sql);
});

afterAll(async () => {
  await prisma?.$disconnect();
});

async function knownSale(): Promise<string> {
  const promotionId = newId();
  await sales.upsert({
    promotionId,
    priceCents: 2_500n,
    totalStock: 10,
    perUserLimit: 1,
    startsAt: new Date(Date.now() - 1_000),
    endsAt: new Date(Date.now() + 3_600_000),
    paymentTimeoutSeconds: 600,
  });
  return promotionId;
}

const entry = (promotionId: string, orderId: string, userId: string): LedgerEntry => ({
  orderId,
  promotionId,
  userId,
  quantity: 2,
  amountCents: 5_000n,
  status: 'RESERVED',
  reservedAtMs: Date.parse('2030-01-01T10:00:00.123Z'),
  idempotencyKey: `key-${userId}`,
});

/** A cut-off after every reservation here: changedSince leaves none out. */
const EVERY_RESERVATION = new Date('2100-01-01T00:00:00Z');

describe('PrismaSaleRepository.recordReserved', () => {
  it('when a batch mixes known and unknown sales, then it records the known ones and hands back the rest', async () => {
    const promotionId = await knownSale();
    const unknown = newId();
    const [a, b, stray] = [newId(), newId(), newId()];
    const before = new Date();

    const orphans = await sales.recordReserved([
      entry(promotionId, a, 'alice'),
      entry(unknown, stray, 'mallory'),
      entry(promotionId, b, 'bob'),
    ]);

    expect(orphans.map((orphan) => orphan.orderId)).toEqual([stray]);
    expect(await sales.ledger(promotionId)).toEqual([entry(promotionId, a, 'alice'), entry(promotionId, b, 'bob')]);
    expect(await sales.findEntry(stray)).toBeUndefined();
    const changed = (await sales.changedSince(before, EVERY_RESERVATION)).map((row) => row.orderId);
    expect(changed).toEqual(expect.arrayContaining([a, b]));
  });

  it('when the same batch is delivered again, or an entry twice in one batch, then each is recorded once', async () => {
    const promotionId = await knownSale();
    const a = newId();
    const batch = [entry(promotionId, a, 'carol'), entry(promotionId, a, 'carol')];
    expect(await sales.recordReserved(batch)).toEqual([]);
    expect(await sales.recordReserved(batch)).toEqual([]);
    expect(await sales.ledger(promotionId)).toEqual([entry(promotionId, a, 'carol')]);
  });
});

describe('PrismaSaleRepository: what changed, for the reconciler', () => {
  it('when reservations are still RESERVED and made at the cut-off or later, then they are left out, unlike settled or older ones', async () => {
    const promotionId = await knownSale();
    const before = new Date();
    const [recent, settled, older] = [newId(), newId(), newId()];
    const cutOff = Date.parse('2030-01-01T10:00:00.123Z'); // `entry`'s reservation time
    await sales.recordReserved([
      entry(promotionId, recent, 'dora'),
      entry(promotionId, settled, 'eve'),
      { ...entry(promotionId, older, 'finn'), reservedAtMs: cutOff - 1 },
    ]);
    expect(await sales.settle(entry(promotionId, settled, 'eve'), 'RELEASED')).toBe(true);

    const changed = (await sales.changedSince(before, new Date(cutOff))).filter((e) => e.promotionId === promotionId);
    expect(changed.map((e) => [e.orderId, e.status]).sort()).toEqual(
      [
        [settled, 'RELEASED'],
        [older, 'RESERVED'],
      ].sort(),
    );
  });
});

describe('PrismaSaleRepository: reading the ledger a page at a time', () => {
  it('when a sale has more entries than a page, all recorded at the same instant, then each read returns every one once', async () => {
    const promotionId = await knownSale();
    const before = new Date();
    // One batch: every row gets the same change time, so pages must be keyed on (time, order id), not time.
    const orderIds = Array.from({ length: 2_345 }, () => newId());
    await sales.recordReserved(orderIds.map((orderId, i) => entry(promotionId, orderId, `user-${i}`)));
    const released = entry(promotionId, orderIds[1_500]!, 'user-1500');
    expect(await sales.settle(released, 'RELEASED')).toBe(true);

    const ledger = await sales.ledger(promotionId);
    expect(ledger.map((e) => e.orderId)).toEqual([...orderIds].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    expect(ledger.find((e) => e.orderId === released.orderId)?.status).toBe('RELEASED');
    expect(ledger[0]).toEqual(entry(promotionId, ledger[0]!.orderId, ledger[0]!.userId));

    const changed = (await sales.changedSince(before, EVERY_RESERVATION)).filter((e) => e.promotionId === promotionId);
    expect(changed).toHaveLength(orderIds.length);
    expect(new Set(changed.map((e) => e.orderId))).toEqual(new Set(orderIds));
  });
});

describe('PrismaSaleRepository.ledgerPages', () => {
  it('when a sale has more entries than a page, then it yields them in pages, in order id order, each once', async () => {
    const promotionId = await knownSale();
    // Order ids of one width, so their text order is their numeric order.
    const ids = Array.from({ length: 2_345 }, (_, i) =>
      String(9_000_000_000n + BigInt(i) * 7n + BigInt(Date.now() % 1_000) * 100_000n),
    );
    const all = ids.map((id, i) => entry(promotionId, id, `user-${i}`));
    expect(await sales.recordReserved(all)).toEqual([]);

    const pages: LedgerEntry[][] = [];
    for await (const page of sales.ledgerPages(promotionId)) pages.push(page);

    // A page at most 1,000 entries: a full pass never holds a sale's whole ledger.
    expect(pages.map((page) => page.length)).toEqual([1_000, 1_000, 345]);
    expect(pages.flat().map((e) => e.orderId)).toEqual(ids);
  });
});
