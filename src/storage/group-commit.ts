// Group commit for SQLite. Every statement of the store is its own transaction, and on SQLite each
// commit appends its pages to the WAL and updates the WAL index: about half of the SQLite work of
// a start or a verify (bench/, README "Performance"). Here the statements issued during one turn of
// the event loop run together at setImmediate, inside one BEGIN IMMEDIATE … COMMIT, and each caller
// is answered only once that COMMIT has succeeded: the same durability as one commit each, the
// same order of effects (statements run one after the other on the one connection), at a fraction
// of the commits under load. A lone request waits for no timer: setImmediate runs in the same turn.
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { SqlConnection, SqlQuery } from './database.js';

interface Pending {
  /** runs the statement now (better-sqlite3 is synchronous); the promise settles later */
  execute(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** How many statements ran in each commit, for tests and the benchmark. */
export interface GroupCommitStats {
  commits: number;
  statements: number;
}

export type GroupCommitConnection = SqlConnection & { readonly groupCommitStats: GroupCommitStats };

/**
 * Wraps the adapter so that queryRaw and executeRaw are grouped into shared transactions.
 * `driver` is the adapter's own better-sqlite3 connection (the one the statements run on).
 */
export function groupCommits(sql: SqlConnection, driver: SqliteDatabase): GroupCommitConnection {
  // exec, not prepare: once per batch, and prepare is the adapter's (statement-cache.ts).
  const begin = () => driver.exec('BEGIN IMMEDIATE');
  const commit = () => driver.exec('COMMIT');
  const rollback = () => driver.exec('ROLLBACK');
  const stats: GroupCommitStats = { commits: 0, statements: 0 };
  let queue: Pending[] = [];
  let scheduled = false;

  const execute = (item: Pending): Promise<unknown> => {
    try {
      return item.execute();
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const settle = (items: Pending[], results: Promise<unknown>[]) => {
    for (let i = 0; i < items.length; i++) results[i]!.then(items[i]!.resolve, items[i]!.reject);
  };
  const fail = (items: Pending[], error: unknown) => {
    for (const item of items) item.reject(error);
  };

  /** Runs `items` in one transaction; returns those not run because the transaction ended early. */
  const runBatch = (items: Pending[]): Pending[] => {
    try {
      begin();
    } catch (error) {
      fail(items, error); // e.g. SQLITE_BUSY: another process kept the write lock past the timeout
      return [];
    }
    const results: Promise<unknown>[] = [];
    for (let i = 0; i < items.length; i++) {
      results.push(execute(items[i]!));
      // A statement error aborts only that statement, unless SQLite rolled the whole transaction
      // back (disk full, I/O error…): then the statements before it are undone too and fail with
      // its error; the rest go into a new transaction.
      if (!driver.inTransaction) {
        const undone = items.slice(0, i + 1);
        for (const result of results) result.catch(() => {});
        results[i]!.then(
          () => fail(undone, new Error('SQLite ended the transaction early')),
          (error) => fail(undone, error),
        );
        return items.slice(i + 1);
      }
    }
    try {
      commit();
    } catch (error) {
      try {
        if (driver.inTransaction) rollback();
      } catch {
        // The connection is gone; the callers learn of it from the COMMIT's error.
      }
      for (const result of results) result.catch(() => {});
      fail(items, error);
      return [];
    }
    stats.commits += 1;
    stats.statements += items.length;
    settle(items, results);
    return [];
  };

  const flush = () => {
    scheduled = false;
    let items = queue;
    queue = [];
    // Inside a transaction someone else opened, each statement simply joins it, as before.
    if (driver.inTransaction) {
      settle(
        items,
        items.map((item) => execute(item)),
      );
      return;
    }
    while (items.length > 0) items = runBatch(items);
  };

  const enqueue = <T>(execute: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ execute, resolve: resolve as (value: unknown) => void, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });

  // A read needs no write lock and no commit: it runs at once, outside any batch.
  const isRead = (query: SqlQuery) => /^\s*SELECT\b/i.test(query.sql);

  return Object.create(sql, {
    queryRaw: {
      value: (query: SqlQuery) => (isRead(query) ? sql.queryRaw(query) : enqueue(() => sql.queryRaw(query))),
    },
    executeRaw: { value: (query: SqlQuery) => enqueue(() => sql.executeRaw(query)) },
    groupCommitStats: { value: stats },
  }) as GroupCommitConnection;
}
