-- PostgreSQL itself refuses to count more units as sold than a sale has, whatever Redis let through: the last wall
-- against an oversell, for every writer. Confirm's guarded update (prisma-sale-repository.ts) turns a refusal into
-- the error OVERSELL_REFUSED instead of reaching this constraint; Prisma's schema cannot express a CHECK.
ALTER TABLE "sales" ADD CONSTRAINT "sales_sold_within_stock" CHECK ("sold" >= 0 AND "sold" <= "total_stock");
