// Retention: deletes verification sessions that are finished (approved, locked, failed, canceled)
// or expired and were last touched before a cutoff. Rows go in small batches (select ids, delete
// their send attempts, delete them), each statement short, so no lock is held for long and the
// service's writes interleave with the purge's (on SQLite, those of another process too). Several
// replicas may purge at once: a row deleted twice is simply not found the second time, so no
// coordination is needed. Idempotency keys past their 24 hours (idempotency/idempotent-starts.ts)
// go in the same run, also in batches. The statements are the dialect's `retention` group
// (storage/*/sql.ts).
import type { Database } from '../storage/database.js';

/** Rows per batch: each DELETE holds SQLite's write lock for a few milliseconds at most. */
export const DEFAULT_BATCH_SIZE = 500;
const DAY_MS = 86_400_000;
const MAX_PAUSE_MS = 1_000;

export interface PurgeOptions {
  /** sessions last updated this many days ago or earlier are eligible */
  days: number;
  /** sessions per batch (one SELECT and two DELETEs) */
  batchSize?: number;
  /** count what would go, delete nothing */
  dryRun?: boolean;
  now?: Date;
}

export interface PurgeResult {
  /** rows deleted, or that would be with dryRun */
  count: number;
  /** expired idempotency keys deleted, or that would be with dryRun */
  idempotencyKeys: number;
  /** DELETE rounds run (0 for a dry run) */
  batches: number;
  cutoff: Date;
}

export function cutoffFor(days: number, now: Date = new Date()): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/** Counts (dryRun) or deletes the eligible sessions. */
export async function purgeVerifications(database: Database, options: PurgeOptions): Promise<PurgeResult> {
  const sql = database.sql.retention;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a whole number ≥ 1');
  const now = options.now ?? new Date();
  const cutoff = cutoffFor(options.days, now);

  if (options.dryRun) {
    const [row] = (await database.run(sql.countEligible, { cutoff })).rows;
    const [keys] = (await database.run(sql.countExpiredIdempotencyKeys, { now })).rows;
    return { count: Number(row?.n ?? 0), idempotencyKeys: Number(keys?.n ?? 0), batches: 0, cutoff };
  }

  let count = 0;
  let batches = 0;
  for (;;) {
    const started = performance.now();
    const { rows } = await database.run(sql.selectEligible, { cutoff, limit: batchSize });
    if (rows.length === 0) break;
    const ids = rows.map((row) => String(row.id));
    await database.run(sql.deleteSendAttempts, { ids });
    count += (await database.run(sql.deleteEligible, { ids, cutoff })).changes;
    batches += 1;
    if (rows.length < batchSize) break;
    await pauseAfter(started);
  }
  const idempotencyKeys = await purgeIdempotencyKeys(database, now, batchSize);
  return { count, idempotencyKeys, batches, cutoff };
}

/** Deletes the idempotency keys past their expiry, a batch at a time. */
async function purgeIdempotencyKeys(database: Database, now: Date, batchSize: number): Promise<number> {
  const sql = database.sql.retention;
  let deleted = 0;
  for (;;) {
    const started = performance.now();
    const { changes } = await database.run(sql.deleteExpiredIdempotencyKeys, { now, limit: batchSize });
    deleted += changes;
    if (changes < batchSize) return deleted;
    await pauseAfter(started);
  }
}

/**
 * A pause as long as the batch took: the purge holds the database at most half the time, so the
 * service's writes (on SQLite, waiting for the one write lock) get their turn.
 */
function pauseAfter(started: number): Promise<void> {
  const pause = Math.min(performance.now() - started, MAX_PAUSE_MS);
  return new Promise((resolve) => setTimeout(resolve, pause));
}
