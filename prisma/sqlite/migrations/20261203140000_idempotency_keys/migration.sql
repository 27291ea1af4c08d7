-- CreateTable
CREATE TABLE "idempotency_keys" (
    "key_hash" TEXT NOT NULL PRIMARY KEY,
    "fingerprint" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "claim" TEXT,
    "locked_until" DATETIME,
    "response_status" INTEGER,
    "response" TEXT,
    "created_at" DATETIME NOT NULL,
    "expires_at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

