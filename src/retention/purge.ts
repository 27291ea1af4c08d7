// Retention: deletes verification sessions that are finished (approved, locked, failed, canceled)
// or expired and were last touched before a cutoff. Rows go in small batches (select ids, delete
// their send attempts, delete them), so no statement holds locks for long and SQLite writers
// interleave with the service. Several replicas may purge at once: a row deleted twice is simply
// not found the second time, so no coordination is needed.
import { type Database, sqlQuery } from '../storage/database.js';
import { compile } from '../storage/verification-store.js';

export const DEFAULT_BATCH_SIZE = 1000;
const DAY_MS = 86_400_000;

export interface PurgeOptions {
  /** sessions last updated this many days ago or earlier are eligible */
  days: number;
  /** rows per DELETE statement */
  batchSize?: number;
  /** count what would go, delete nothing */
  dryRun?: boolean;
  now?: Date;
}

export interface PurgeResult {
  /** rows deleted, or that would be with dryRun */
  count: number;
  /** DELETE rounds run (0 for a dry run) */
  batches: number;
  cutoff: Date;
}

// updated_at is indexed, and an expired session's expiry lies before its last update unless a
// check came after expiry: both tests together keep the scan on the index.
const ELIGIBLE = `updated_at < :cutoff
  AND (status IN ('approved', 'locked', 'failed', 'canceled') OR expires_at < :cutoff)`;

export function cutoffFor(days: number, now: Date = new Date()): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

function placeholders(database: Database, count: number, offset: number): string {
  return Array.from({ length: count }, (_, i) =>
    database.kind === 'sqlite' ? '?' : `$${offset + i + 1}`,
  ).join(', ');
}

/** Counts (dryRun) or deletes the eligible sessions. */
export async function purgeVerifications(database: Database, options: PurgeOptions): Promise<PurgeResult> {
  const { kind } = database;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a whole number ≥ 1');
  const cutoff = cutoffFor(options.days, options.now);

  if (options.dryRun) {
    const count = compile(kind, `SELECT COUNT(*) AS n FROM verifications WHERE ${ELIGIBLE}`);
    const { rows } = await database.sql.queryRaw(
      sqlQuery(
        count.text,
        count.names.map(() => cutoff),
      ),
    );
    const [row] = rows;
    return { count: Number(row?.[0] ?? 0), batches: 0, cutoff };
  }

  const select = compile(
    kind,
    `SELECT id FROM verifications WHERE ${ELIGIBLE} ORDER BY updated_at LIMIT ${batchSize}`,
  );
  const recheck = compile(kind, ELIGIBLE);
  let count = 0;
  let batches = 0;
  for (;;) {
    const { rows: selected } = await database.sql.queryRaw(
      sqlQuery(
        select.text,
        select.names.map(() => cutoff),
      ),
    );
    if (selected.length === 0) break;
    const ids = selected.map((row) => String(row[0]));
    // send_attempts cascade on PostgreSQL and on SQLite with foreign keys on; deleting them first
    // does not rely on either.
    await database.sql.executeRaw(
      sqlQuery(
        `DELETE FROM send_attempts WHERE verification_id IN (${placeholders(database, ids.length, 0)})`,
        ids,
      ),
    );
    // The eligibility test again: a row is only ever deleted while it qualifies. PostgreSQL's
    // numbered parameters continue after the ids.
    const recheckText =
      kind === 'sqlite'
        ? recheck.text
        : recheck.text.replace(/\$(\d+)/g, (_, n) => `$${ids.length + Number(n)}`);
    count += await database.sql.executeRaw(
      sqlQuery(
        `DELETE FROM verifications WHERE id IN (${placeholders(database, ids.length, 0)}) AND ${recheckText}`,
        [...ids, ...recheck.names.map(() => cutoff)],
      ),
    );
    batches += 1;
    if (selected.length < batchSize) break;
    // Let the service's own queries run between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { count, batches, cutoff };
}
