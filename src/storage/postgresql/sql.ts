// Every SQL statement the service runs on PostgreSQL, by store and name (SQLite's are in
// ../sqlite/sql.ts). Times arrive as ISO-8601 text and are read into timestamptz; a list
// parameter (:ids) arrives as a text[].
import type { DialectSql } from '../statement.js';

const COLUMNS =
  'id, service_id, phone_number, status, failed_attempts, approvals, locale, amount, payee, created_at, expires_at, verified_at, updated_at';

/** Finished, or expired, and last touched before the cutoff (retention). */
const ELIGIBLE = `updated_at < :cutoff
  AND (status IN ('approved', 'locked', 'failed', 'canceled') OR expires_at < :cutoff)`;

export const POSTGRESQL_SQL = {
  verifications: {
    // Concurrent inserts do not see each other's uncommitted rows, so an insert cannot know that
    // the number has no other pending session: the supersede always runs.
    insertPending: `INSERT INTO verifications
        (id, service_id, phone_number, channel, status, token_hash, code_hash, failed_attempts, approvals,
         backend, locale, amount, payee, created_at, expires_at, updated_at)
      VALUES (:id, :service_id, :phone, 'sms', 'pending', :token_hash, :code_hash, 0, 0,
         :backend, :locale, :amount, :payee, :now, :expires_at, :now)
      RETURNING true AS others_pending`,
    // Only sessions started before this one (by created_at, then id): of concurrent starts for one
    // number, the newest survives whatever order their supersedes run in. Ids compare bytewise
    // (COLLATE "C"), as on SQLite: the database's default collation may order them otherwise.
    supersede: `UPDATE verifications SET status = 'canceled', updated_at = :now
      WHERE service_id = :service_id AND phone_number = :phone AND status = 'pending'
        AND (created_at < :now OR (created_at = :now AND id COLLATE "C" < :id))`,
    markFailed: `UPDATE verifications SET status = 'failed', updated_at = :now WHERE id = :id`,
    // Every SET expression reads the row as it was before this statement. A wrong code counts on a
    // locked session too, so the request that reached the limit (count == max) can be told apart
    // from later ones (count > max). approvals numbers the accepted checks: exactly one request
    // sees 1, whatever the concurrency, because the row is updated one statement at a time.
    checkCode: `UPDATE verifications SET
        status = CASE
          WHEN status = 'pending' AND code_hash = :code_hash AND expires_at > :now THEN 'approved'
          WHEN status IN ('pending', 'approved') AND code_hash <> :code_hash AND failed_attempts + 1 >= :max THEN 'locked'
          ELSE status END,
        failed_attempts = failed_attempts + CASE
          WHEN status IN ('pending', 'approved', 'locked') AND code_hash <> :code_hash THEN 1 ELSE 0 END,
        approvals = approvals + CASE
          WHEN status IN ('pending', 'approved') AND code_hash = :code_hash AND expires_at > :now THEN 1 ELSE 0 END,
        verified_at = CASE
          WHEN status = 'pending' AND code_hash = :code_hash AND expires_at > :now THEN :now ELSE verified_at END,
        updated_at = :now
      WHERE token_hash = :token_hash AND phone_number = :phone
      RETURNING ${COLUMNS}, (code_hash = :code_hash) AS code_matched`,
    findByToken: `SELECT ${COLUMNS} FROM verifications WHERE token_hash = :token_hash AND phone_number = :phone`,
    approve: `UPDATE verifications SET status = 'approved', approvals = approvals + 1,
        verified_at = COALESCE(verified_at, :now), updated_at = :now
      WHERE id = :id AND status IN ('pending', 'approved')
      RETURNING ${COLUMNS}`,
    recordFailure: `UPDATE verifications SET failed_attempts = failed_attempts + 1,
        status = CASE WHEN failed_attempts + 1 >= :max THEN 'locked' ELSE status END, updated_at = :now
      WHERE id = :id AND status IN ('pending', 'approved')
      RETURNING ${COLUMNS}`,
    findById: `SELECT ${COLUMNS} FROM verifications WHERE id = :id`,
    // A service's session for a number that a check by number reaches: the newest live one.
    findLive: `SELECT ${COLUMNS} FROM verifications
      WHERE service_id = :service_id AND phone_number = :phone AND status IN ('pending', 'locked')
        AND expires_at > :now
      ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT 1`,
    // A re-send on the same session: a new code replaces the old one, which stops working. A PSD2
    // transaction given again replaces the one kept; none given keeps it.
    resend: `UPDATE verifications SET code_hash = :code_hash, expires_at = :expires_at, updated_at = :now,
        amount = COALESCE(:amount, amount), payee = COALESCE(:payee, payee)
      WHERE id = :id AND status = 'pending' AND expires_at > :now
      RETURNING ${COLUMNS}`,
    cancel: `UPDATE verifications SET status = 'canceled', updated_at = :now
      WHERE id = :id AND status = 'pending'
      RETURNING ${COLUMNS}`,
    insertSendAttempt: `INSERT INTO send_attempts
        (id, verification_id, channel, backend, status, provider_message_id, error_code, created_at, updated_at)
      VALUES (:id, :verification_id, 'sms', :backend, :status, :provider_message_id, :error_code, :now, :now)`,
    listSendAttempts: `SELECT id, channel, backend, status, provider_message_id, error_code, created_at, updated_at
      FROM send_attempts
      WHERE verification_id = :verification_id ORDER BY created_at, id COLLATE "C"`,
    // A delivery receipt: only a message still "sent" takes it, so the first final receipt wins
    // (a provider's retries and late intermediate states change nothing) and each counts once.
    recordDelivery: `UPDATE send_attempts SET status = :status, error_code = COALESCE(:error_code, error_code),
        updated_at = :now
      WHERE provider_message_id = :provider_message_id AND backend = ANY(:backends) AND status = 'sent'
      RETURNING backend, status`,
    ping: 'SELECT 1 AS ok',
  },
  services: {
    insert: `INSERT INTO services (id, name, settings, created_at) VALUES (:id, :name, :settings, :now)
      RETURNING id, name, settings, created_at`,
    find: `SELECT id, name, settings, created_at FROM services WHERE id = :id`,
    update: `UPDATE services SET name = :name, settings = :settings WHERE id = :id
      RETURNING id, name, settings, created_at`,
    // send_attempts go with their verifications (ON DELETE CASCADE).
    deleteVerifications: `DELETE FROM verifications WHERE service_id = :id`,
    delete: `DELETE FROM services WHERE id = :id`,
    // "default" is /v1's tenant, not a Twilio service.
    list: `SELECT id, name, settings, created_at FROM services WHERE id <> 'default'
      ORDER BY created_at, id COLLATE "C" LIMIT :limit OFFSET :offset`,
  },
  retention: {
    countEligible: `SELECT COUNT(*) AS n FROM verifications WHERE ${ELIGIBLE}`,
    // updated_at is indexed, and an expired session's expiry lies before its last update unless a
    // check came after expiry: both tests together keep the scan on the index.
    selectEligible: `SELECT id FROM verifications WHERE ${ELIGIBLE} ORDER BY updated_at LIMIT :limit`,
    // send_attempts cascade; deleting them first does not rely on it.
    deleteSendAttempts: 'DELETE FROM send_attempts WHERE verification_id = ANY(:ids)',
    // The eligibility test again: a row is only ever deleted while it qualifies.
    deleteEligible: `DELETE FROM verifications
      WHERE id = ANY(:ids) AND ${ELIGIBLE}`,
    countExpiredIdempotencyKeys: 'SELECT COUNT(*) AS n FROM idempotency_keys WHERE expires_at < :now',
    deleteExpiredIdempotencyKeys: `DELETE FROM idempotency_keys WHERE key_hash IN
      (SELECT key_hash FROM idempotency_keys WHERE expires_at < :now ORDER BY expires_at LIMIT :limit)`,
  },
  idempotency: {
    // One statement decides who holds a key: a new key is inserted; a row past its expiry, or a
    // claim of the same body past its lease (its request never finished), is taken over; a live
    // one is left alone and nothing is returned.
    claim: `INSERT INTO idempotency_keys
        (key_hash, fingerprint, status, claim, locked_until, response_status, response, created_at, expires_at)
      VALUES (:key_hash, :fingerprint, 'pending', :claim, :locked_until, NULL, NULL, :now, :expires_at)
      ON CONFLICT (key_hash) DO UPDATE SET fingerprint = excluded.fingerprint, status = 'pending',
        claim = excluded.claim, locked_until = excluded.locked_until, response_status = NULL,
        response = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
      WHERE idempotency_keys.expires_at <= :now
        OR (idempotency_keys.status = 'pending' AND idempotency_keys.locked_until <= :now
          AND idempotency_keys.fingerprint = :fingerprint)
      RETURNING claim`,
    find: `SELECT fingerprint, status, response FROM idempotency_keys WHERE key_hash = :key_hash`,
    complete: `UPDATE idempotency_keys SET status = 'done', claim = NULL, locked_until = NULL,
        response_status = :response_status, response = :response
      WHERE key_hash = :key_hash AND claim = :claim AND status = 'pending'`,
    release: `DELETE FROM idempotency_keys WHERE key_hash = :key_hash AND claim = :claim AND status = 'pending'`,
  },
} satisfies DialectSql;
