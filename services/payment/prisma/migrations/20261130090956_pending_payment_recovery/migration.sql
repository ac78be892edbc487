-- DropIndex
DROP INDEX "payments_status_created_at_idx";

-- AlterTable
ALTER TABLE "payments" ADD COLUMN     "attempted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "payments_status_attempted_at_idx" ON "payments"("status", "attempted_at");

-- Rows from before this migration: their attempt started when they were created.
UPDATE "payments" SET "attempted_at" = "created_at";
