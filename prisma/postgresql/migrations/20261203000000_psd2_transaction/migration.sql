-- AlterTable: a /v2 verification's PSD2 transaction (Twilio's Amount and Payee), echoed on every answer.
ALTER TABLE "verifications" ADD COLUMN "amount" TEXT,
ADD COLUMN "payee" TEXT;
