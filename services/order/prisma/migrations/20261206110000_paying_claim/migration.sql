-- A payment claims its order before charging it (AWAITING_PAYMENT -> PAYING), so the deadline is judged when the buyer pays.

-- AlterEnum
ALTER TYPE "OrderStatus" ADD VALUE 'PAYING';

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "payment_claimed_at" TIMESTAMPTZ(3);
