// Group commit for SQLite. Each of the store's writes would be a transaction of its own, and each
// commit appends its pages to the WAL and updates the WAL index, a large share of the SQLite work
// of a start or a verify. Here the writes submitted during one turn of the event loop run together at
// setImmediate, inside one BEGIN IMMEDIATE … COMMIT, and each caller is answered only once that
// COMMIT has succeeded: the durability of one commit each, the same order of effects (they run one
// after the other on the one connection), at a fraction of the commits under load. A lone write
// waits for no timer: setImmediate runs in the same turn.
//
// The write lock may be held by another connection (another process: `npm run purge`, a replica
// sharing the file). Waiting for it synchronously would stop the event loop, so the connection's
// busy timeout is a few milliseconds, and a batch that finds the lock taken is tried again later,
// from a timer, until each write's deadline; writes submitted meanwhile join it.
import type { Database as SqliteConnection } from 'better-sqlite3';
import { DatabaseTimeout } from '../unavailable.js';

/** Delays between two tries for the write lock, in milliseconds; the last one repeats. */
export const RETRY_DELAYS_MS = [2, 5, 10, 20, 50];

/** How many statements ran in how many commits (tests and the benchmark read them). */
export interface GroupCommitStats {
  commits: number;
  statements: number;
  /** times a batch found the write lock taken and was tried again later */
  busyRetries: number;
}

interface Pending {
  /** runs the statement now, synchronously */
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** performance.now() past which it fails instead of waiting longer for the lock */
  deadline: number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export const isBusy = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === 'SQLITE_BUSY';

export class GroupCommit {
  readonly stats: GroupCommitStats = { commits: 0, statements: 0, busyRetries: 0 };
  readonly #db: SqliteConnection;
  readonly #timeoutMs: number;
  #queue: Pending[] = [];
  /** a flush is scheduled: at setImmediate, or after a retry delay */
  #scheduled = false;
  #retries = 0;
  #idle: (() => void)[] = [];

  constructor(db: SqliteConnection, timeoutMs: number) {
    this.#db = db;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs `run` in this turn's shared transaction; settles after its COMMIT. */
  submit<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: performance.now() + this.#timeoutMs,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Resolves once every submitted write is settled. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #flush = (): void => {
    let items = this.#queue;
    this.#queue = [];
    while (items.length > 0) {
      const rest = this.#runBatch(items);
      if (rest === 'busy') {
        this.#waitForLock(items);
        return;
      }
      items = rest;
    }
    this.#retries = 0;
    this.#scheduled = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  };

  /** The lock is taken: fails the writes past their deadline, tries the others again later. */
  #waitForLock(items: Pending[]): void {
    const now = performance.now();
    const waiting: Pending[] = [];
    for (const item of items) {
      if (item.deadline > now) waiting.push(item);
      else item.reject(new DatabaseTimeout('a write waiting for the SQLite write lock', this.#timeoutMs));
    }
    this.#queue = [...waiting, ...this.#queue];
    this.stats.busyRetries += 1;
    const delay = RETRY_DELAYS_MS[Math.min(this.#retries, RETRY_DELAYS_MS.length - 1)]!;
    this.#retries += 1;
    setTimeout(this.#flush, delay);
  }

  /**
   * Runs `items` in one transaction. Returns those not run because SQLite ended the transaction
   * early, or 'busy' (nothing ran) when another connection holds the write lock.
   */
  #runBatch(items: Pending[]): Pending[] | 'busy' {
    const db = this.#db;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (isBusy(error)) return 'busy';
      for (const item of items) item.reject(error);
      return [];
    }
    const outcomes: Outcome[] = [];
    for (let i = 0; i < items.length; i++) {
      try {
        outcomes.push({ ok: true, value: items[i]!.run() });
      } catch (error) {
        outcomes.push({ ok: false, error });
        // A statement error aborts only that statement, unless SQLite rolled the whole transaction
        // back (disk full, I/O error, RAISE(ROLLBACK)…): then the statements before it are undone
        // too and fail with its error; the rest go into a new transaction.
        if (!db.inTransaction) {
          for (const undone of items.slice(0, i + 1)) undone.reject(error);
          return items.slice(i + 1);
        }
      }
    }
    try {
      db.exec('COMMIT');
    } catch (error) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // The connection is gone; the callers learn of it from the COMMIT's error.
      }
      for (const item of items) item.reject(error);
      return [];
    }
    this.stats.commits += 1;
    this.stats.statements += items.length;
    for (let i = 0; i < items.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) items[i]!.resolve(outcome.value);
      else items[i]!.reject(outcome.error);
    }
    return [];
  }
}
