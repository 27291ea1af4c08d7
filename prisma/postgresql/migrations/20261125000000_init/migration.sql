-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "services" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "services_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "verifications" (
    "id" TEXT NOT NULL,
    "service_id" TEXT NOT NULL DEFAULT 'default',
    "phone_number" TEXT NOT NULL,
    "channel" TEXT NOT NULL DEFAULT 'sms',
    "status" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "code_hash" TEXT NOT NULL,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "approvals" INTEGER NOT NULL DEFAULT 0,
    "backend" TEXT NOT NULL,
    "locale" TEXT,
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "verified_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "verifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "send_attempts" (
    "id" TEXT NOT NULL,
    "verification_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL DEFAULT 'sms',
    "backend" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "provider_message_id" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "send_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "verifications_token_hash_key" ON "verifications"("token_hash");

-- CreateIndex
CREATE INDEX "verifications_service_id_phone_number_status_idx" ON "verifications"("service_id", "phone_number", "status");

-- CreateIndex
CREATE INDEX "verifications_updated_at_idx" ON "verifications"("updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "verifications_service_id_idempotency_key_key" ON "verifications"("service_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "send_attempts_verification_id_idx" ON "send_attempts"("verification_id");

-- AddForeignKey
ALTER TABLE "verifications" ADD CONSTRAINT "verifications_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "send_attempts" ADD CONSTRAINT "send_attempts_verification_id_fkey" FOREIGN KEY ("verification_id") REFERENCES "verifications"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The tenant every verification belongs to until several services are exposed.
INSERT INTO "services" ("id", "name") VALUES ('default', 'default');
