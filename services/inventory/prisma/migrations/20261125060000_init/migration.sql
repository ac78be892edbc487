-- CreateTable
CREATE TABLE "sales" (
    "promotion_id" BIGINT NOT NULL,
    "price_cents" BIGINT NOT NULL,
    "total_stock" INTEGER NOT NULL,
    "sold" INTEGER NOT NULL DEFAULT 0,
    "per_user_limit" INTEGER NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "payment_timeout_seconds" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sales_pkey" PRIMARY KEY ("promotion_id")
);

-- CreateTable
CREATE TABLE "sale_confirmations" (
    "order_id" BIGINT NOT NULL,
    "promotion_id" BIGINT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sale_confirmations_pkey" PRIMARY KEY ("order_id")
);

-- CreateIndex
CREATE INDEX "sales_ends_at_idx" ON "sales"("ends_at");

-- CreateIndex
CREATE INDEX "sale_confirmations_promotion_id_idx" ON "sale_confirmations"("promotion_id");

-- AddForeignKey
ALTER TABLE "sale_confirmations" ADD CONSTRAINT "sale_confirmations_promotion_id_fkey" FOREIGN KEY ("promotion_id") REFERENCES "sales"("promotion_id") ON DELETE RESTRICT ON UPDATE CASCADE;
