import type { Promotion } from '../domain/promotion';
import type { PromotionPage, PromotionRepository } from '../application/ports';
import type { PrismaClient, Promotion as PromotionRow } from '../generated/prisma/client';

export class PrismaPromotionRepository implements PromotionRepository {
  constructor(private readonly db: PrismaClient) {}

  async insert(promotion: Promotion): Promise<void> {
    await this.db.promotion.create({ data: { ...promotion, id: BigInt(promotion.id) } });
  }

  async find(id: string): Promise<Promotion | undefined> {
    const row = await this.db.promotion.findUnique({ where: { id: BigInt(id) } });
    return row ? toPromotion(row) : undefined;
  }

  async list({ window, now, pageSize, afterId }: Parameters<PromotionRepository['list']>[0]): Promise<PromotionPage> {
    const timeFilter =
      window === 'SCHEDULED'
        ? { startsAt: { gt: now } }
        : window === 'ENDED'
          ? { endsAt: { lte: now } }
          : window
            ? { startsAt: { lte: now }, endsAt: { gt: now } }
            : {};
    const rows = await this.db.promotion.findMany({
      where: { ...timeFilter, ...(afterId ? { id: { lt: BigInt(afterId) } } : {}) },
      orderBy: { id: 'desc' },
      take: pageSize + 1,
    });
    const page = rows.slice(0, pageSize).map(toPromotion);
    const last = page[page.length - 1];
    return { promotions: page, ...(rows.length > pageSize && last ? { nextAfterId: last.id } : {}) };
  }

  async listStarting({ after, until }: { after: Date; until: Date }): Promise<Promotion[]> {
    const rows = await this.db.promotion.findMany({
      where: { startsAt: { gt: after, lte: until } },
      orderBy: { startsAt: 'asc' },
    });
    return rows.map(toPromotion);
  }
}

function toPromotion(row: PromotionRow): Promotion {
  return { ...row, id: row.id.toString() };
}
