// Rows for the retention tests, written straight into a migrated database with chosen timestamps.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/storage/database.js';

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

function time(database: Database, daysAgo: number, now: Date): Date | string {
  const date = new Date(now.getTime() - daysAgo * DAY_MS);
  return database.kind === 'sqlite' ? date.toISOString() : date;
}

function params(database: Database, count: number): string {
  return Array.from({ length: count }, (_, i) => (database.kind === 'sqlite' ? '?' : `$${i + 1}`)).join(', ');
}

/** Inserts the rows; returns their ids in order. */
export async function insertRows(database: Database, rows: Row[], now = new Date()): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    const id = randomUUID();
    ids.push(id);
    const updated = time(database, row.updatedDaysAgo, now);
    await database.client.$executeRawUnsafe(
      `INSERT INTO verifications (id, service_id, phone_number, channel, status, token_hash, code_hash,
        failed_attempts, approvals, backend, created_at, expires_at, updated_at)
       VALUES (${params(database, 13)})`,
      id,
      'default',
      '+14155550100',
      'sms',
      row.status,
      `token-${id}`,
      'code-hash',
      0,
      0,
      'console',
      updated,
      time(database, row.expiresDaysAgo, now),
      updated,
    );
    for (let i = 0; i < (row.sends ?? 0); i++) {
      await database.client.$executeRawUnsafe(
        `INSERT INTO send_attempts (id, verification_id, channel, backend, status, created_at, updated_at)
         VALUES (${params(database, 7)})`,
        randomUUID(),
        id,
        'sms',
        'console',
        'sent',
        updated,
        updated,
      );
    }
  }
  return ids;
}

export async function countRows(
  database: Database,
  table: 'verifications' | 'send_attempts',
): Promise<number> {
  const [row] = await database.client.$queryRawUnsafe<{ n: unknown }[]>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}

export async function remainingIds(database: Database): Promise<string[]> {
  const rows = await database.client.$queryRawUnsafe<{ id: string }[]>('SELECT id FROM verifications');
  return rows.map((row) => row.id).sort();
}
