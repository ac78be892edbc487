-- CreateEnum
CREATE TYPE "ReservationStatus" AS ENUM ('RESERVED', 'RELEASED', 'CONFIRMED');

-- DropForeignKey
ALTER TABLE "sale_confirmations" DROP CONSTRAINT "sale_confirmations_promotion_id_fkey";

-- DropTable
DROP TABLE "sale_confirmations";

-- CreateTable
CREATE TABLE "reservations" (
    "order_id" BIGINT NOT NULL,
    "promotion_id" BIGINT NOT NULL,
    "user_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "status" "ReservationStatus" NOT NULL,
    "reserved_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reservations_pkey" PRIMARY KEY ("order_id")
);

-- CreateIndex
CREATE INDEX "reservations_promotion_id_status_idx" ON "reservations"("promotion_id", "status");

-- AddForeignKey
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_promotion_id_fkey" FOREIGN KEY ("promotion_id") REFERENCES "sales"("promotion_id") ON DELETE RESTRICT ON UPDATE CASCADE;
