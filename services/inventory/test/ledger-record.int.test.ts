/**
 * The ledger's batch insert (one SQL statement for a whole Kafka batch) against the real PostgreSQL: entries of
 * known sales are recorded once, whatever the redeliveries; entries of a sale the database does not know are
 * handed back, not recorded, and do not stop the others. Its change time is what the reconciler reads.
 */
import { createDatabase } from '@flash-sale/db';
import { infra } from '@flash-sale/testing';
import type { LedgerEntry } from '../src/domain/ledger';
import { PrismaClient } from '../src/generated/prisma/client';
import { PrismaSaleRepository } from '../src/infrastructure/prisma/prisma-sale-repository';
import { newId } from './support';

let prisma: PrismaClient;
let sales: PrismaSaleRepository;

beforeAll(() => {
  const { adapter, sql } = createDatabase(infra.databaseUrl('inventory'));
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
    const changed = (await sales.changedSince(before)).map((row) => row.orderId);
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
