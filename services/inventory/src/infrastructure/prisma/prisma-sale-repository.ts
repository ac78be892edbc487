import { conflict } from '@flash-sale/errors';
import type { SaleTerms } from '../../domain/sale';
import type { SaleRepository } from '../../application/ports';
import type { PrismaClient } from '../../generated/prisma/client';

const MAX_LOCK_ATTEMPTS = 10;

export class PrismaSaleRepository implements SaleRepository {
  constructor(private readonly db: PrismaClient) {}

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

  async confirmSold(promotionId: string, orderId: string, quantity: number): Promise<boolean> {
    const id = BigInt(promotionId);
    return this.db.$transaction(async (tx) => {
      const recorded = await tx.saleConfirmation.createMany({
        data: [{ orderId: BigInt(orderId), promotionId: id, quantity }],
        skipDuplicates: true,
      });
      if (recorded.count === 0) return false;
      for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt += 1) {
        const { version } = await tx.sale.findUniqueOrThrow({ where: { promotionId: id }, select: { version: true } });
        const updated = await tx.sale.updateMany({
          where: { promotionId: id, version },
          data: { sold: { increment: quantity }, version: { increment: 1 } },
        });
        if (updated.count === 1) return true;
      }
      throw conflict('STOCK_VERSION_CONFLICT', `could not update stock of ${promotionId}; try again`);
    });
  }

  async listOpenSince(since: Date): Promise<string[]> {
    const rows = await this.db.sale.findMany({ where: { endsAt: { gt: since } }, select: { promotionId: true } });
    return rows.map((row) => row.promotionId.toString());
  }
}
