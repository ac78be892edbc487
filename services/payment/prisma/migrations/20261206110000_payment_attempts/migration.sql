-- Each attempt to pay an order is its own payment (its own id, its own provider idempotency key): an outcome of
-- an old attempt can never be mistaken for a new one's.

-- DropIndex
DROP INDEX "payments_order_id_key";

-- AlterTable
ALTER TABLE "payments" ADD COLUMN     "failure_code" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "payments_order_id_idempotency_key_key" ON "payments"("order_id", "idempotency_key");

-- At most one live (not FAILED) payment per order: a second attempt is refused while one runs or has succeeded.
-- Written by hand: Prisma's schema cannot express a partial index.
CREATE UNIQUE INDEX "payments_one_live_per_order" ON "payments"("order_id") WHERE "status" <> 'FAILED';

-- Rows from before this migration that failed were declined by the provider.
UPDATE "payments" SET "failure_code" = 'PAYMENT_DECLINED' WHERE "status" = 'FAILED';
