-- CreateIndex
CREATE INDEX "reservations_updated_at_idx" ON "reservations"("updated_at");
