-- GetSaleSummary counts one promotion's orders by status. A plain CREATE INDEX blocks order writes while it
-- builds: on a large orders table, deploy it outside a sale.

-- CreateIndex
CREATE INDEX "orders_promotion_id_status_idx" ON "orders"("promotion_id", "status");
