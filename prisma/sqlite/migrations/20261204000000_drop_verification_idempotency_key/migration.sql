-- The column was reserved for Idempotency-Key before the keys got their own table
-- (idempotency_keys); nothing reads or writes it, and its unique index cost every start an index
-- write. Dropped in place (SQLite 3.35+) rather than by redefining the table: the table's rows and
-- their send_attempts stay untouched.
-- DropIndex
DROP INDEX "verifications_service_id_idempotency_key_key";

-- AlterTable
ALTER TABLE "verifications" DROP COLUMN "idempotency_key";
