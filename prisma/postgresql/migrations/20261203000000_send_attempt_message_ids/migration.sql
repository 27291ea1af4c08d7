-- Delivery receipts find their send by the provider's message id.
-- CreateIndex
CREATE INDEX "send_attempts_provider_message_id_idx" ON "send_attempts"("provider_message_id");
