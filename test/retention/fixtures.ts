// Rows for the retention tests, written straight into a migrated database with chosen timestamps,
// through the database's own run() with statements of the test's own.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/storage/database.js';
import { compileStatement } from '../../src/storage/statement.js';

export const DAY_MS = 86_400_000;

export interface Row {
  status: 'pending' | 'approved' | 'locked' | 'failed' | 'canceled';
  /** days before now of the last update (created_at is the same) */
  updatedDaysAgo: number;
  /** days before now of the expiry (negative: in the future) */
  expiresDaysAgo: number;
  /** send_attempts rows to attach */
  sends?: number;
}

const INSERT_VERIFICATION = `INSERT INTO verifications (id, service_id, phone_number, channel, status,
    token_hash, code_hash, failed_attempts, approvals, backend, created_at, expires_at, updated_at)
  VALUES (:id, 'default', '+14155550100', 'sms', :status, :token_hash, 'code-hash', 0, 0, 'console',
    :updated, :expires, :updated)`;
const INSERT_SEND = `INSERT INTO send_attempts (id, verification_id, channel, backend, status, created_at, updated_at)
  VALUES (:id, :verification_id, 'sms', 'console', 'sent', :updated, :updated)`;

const statement = (database: Database, name: string, sql: string) =>
  compileStatement(database.kind, `test.${name}`, sql);

/** Inserts the rows; returns their ids in order. */
export async function insertRows(database: Database, rows: Row[], now = new Date()): Promise<string[]> {
  const insertVerification = statement(database, 'insertVerification', INSERT_VERIFICATION);
  const insertSend = statement(database, 'insertSend', INSERT_SEND);
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const ids: string[] = [];
  for (const row of rows) {
    const id = randomUUID();
    ids.push(id);
    const updated = daysAgo(row.updatedDaysAgo);
    await database.run(insertVerification, {
      id,
      status: row.status,
      token_hash: `token-${id}`,
      updated,
      expires: daysAgo(row.expiresDaysAgo),
    });
    for (let i = 0; i < (row.sends ?? 0); i++) {
      await database.run(insertSend, { id: randomUUID(), verification_id: id, updated });
    }
  }
  return ids;
}

const INSERT_IDEMPOTENCY_KEY = `INSERT INTO idempotency_keys
    (key_hash, fingerprint, status, claim, locked_until, response_status, response, created_at, expires_at)
  VALUES (:key_hash, 'fingerprint', 'done', NULL, NULL, 201, 'v1.sealed', :created, :expires)`;

/** Inserts idempotency keys expiring the given numbers of days before now (negative: later). */
export async function insertIdempotencyKeys(
  database: Database,
  expiresDaysAgo: number[],
  now = new Date(),
): Promise<void> {
  const insert = statement(database, 'insertIdempotencyKey', INSERT_IDEMPOTENCY_KEY);
  for (const days of expiresDaysAgo) {
    const expires = new Date(now.getTime() - days * DAY_MS);
    await database.run(insert, {
      key_hash: randomUUID(),
      created: new Date(expires.getTime() - DAY_MS),
      expires,
    });
  }
}

export async function countRows(
  database: Database,
  table: 'verifications' | 'send_attempts' | 'idempotency_keys',
): Promise<number> {
  const { rows } = await database.run(
    statement(database, `count.${table}`, `SELECT COUNT(*) AS n FROM ${table}`),
  );
  return Number(rows[0]?.n ?? 0);
}

export async function remainingIds(database: Database): Promise<string[]> {
  const { rows } = await database.run(statement(database, 'ids', 'SELECT id FROM verifications'));
  return rows.map((row) => String(row.id)).sort();
}
