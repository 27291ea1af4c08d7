// SQLite through better-sqlite3: one connection of our own, each statement prepared once, writes
// grouped into shared commits (group-commit.ts), checkpoints on a worker thread
// (background-checkpoint.ts). better-sqlite3 runs on the event loop, so nothing here may wait for
// a lock synchronously for longer than BUSY_WAIT_MS: a statement that finds the database locked by
// another connection is tried again from a timer until its deadline.
import type { Statement as PreparedStatement, Database as SqliteConnection } from 'better-sqlite3';
import type { Database, OpenOptions } from '../database.js';
import {
  compileSql,
  type Row,
  type SqlParams,
  type SqlResult,
  type Statement,
  toSqlValue,
} from '../statement.js';
import { DatabaseTimeout } from '../unavailable.js';
import { type BackgroundCheckpoint, checkpointInBackground } from './background-checkpoint.js';
import { explainAccessError, openSqliteFile, sqliteFilePath } from './file.js';
import { GroupCommit, type GroupCommitStats, isBusy, RETRY_DELAYS_MS } from './group-commit.js';
import { SQLITE_SQL } from './sql.js';

/**
 * How long one try waits synchronously for a lock (SQLite's busy timeout): the longest the event
 * loop can stall on another connection's lock. Long enough to catch a lock released at once.
 */
export const BUSY_WAIT_MS = 5;

// WAL lets readers run beside the writer; NORMAL sync is durable across crashes in WAL mode. A
// 16 MB page cache (2 MB by default) keeps the hot index pages in memory. Checkpoints (the only
// fsyncs under NORMAL) every 1,000 WAL pages as SQLite does, or mostly on a worker thread.
const PRAGMAS = `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
  PRAGMA cache_size = -16000; PRAGMA wal_autocheckpoint = 1000; PRAGMA temp_store = MEMORY;`;

const SQL = compileSql('sqlite', SQLITE_SQL);

type Bound = Record<string, string | number | null>;

/** better-sqlite3 binds text, numbers and null: times become ISO text, lists JSON (json_each). */
function bind(statement: Statement, params: SqlParams): Bound {
  const bound: Bound = {};
  for (const name of statement.params) {
    const value = params[name];
    if (value === undefined) throw new TypeError(`statement ${statement.name}: no value for :${name}`);
    const plain = toSqlValue(value);
    if (typeof plain === 'boolean') bound[name] = Number(plain);
    else if (typeof plain === 'object' && plain !== null) bound[name] = JSON.stringify(plain);
    else bound[name] = plain;
  }
  return bound;
}

export class SqliteDatabase implements Database {
  readonly kind = 'sqlite' as const;
  readonly sql = SQL;
  readonly #db: SqliteConnection;
  readonly #timeoutMs: number;
  /** by SQL text: the service's statements are a fixed set */
  readonly #prepared = new Map<string, PreparedStatement>();
  readonly #groupCommit: GroupCommit;
  readonly #checkpoints: BackgroundCheckpoint | undefined;
  #closing: Promise<void> | undefined;

  constructor(db: SqliteConnection, file: string, options: OpenOptions & { timeoutMs: number }) {
    this.#db = db;
    this.#timeoutMs = options.timeoutMs;
    this.#groupCommit = new GroupCommit(db, options.timeoutMs);
    this.#checkpoints =
      options.backgroundCheckpoints && file !== ':memory:'
        ? checkpointInBackground(db, file, { onError: options.onCheckpointError })
        : undefined;
  }

  /** How many statements ran in how many commits. */
  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.#groupCommit.stats;
  }

  run(statement: Statement, params: SqlParams = {}): Promise<SqlResult> {
    let execute: () => SqlResult;
    try {
      if (this.#closing) throw new Error('the database is closed');
      const prepared = this.#prepare(statement);
      const bound = bind(statement, params);
      execute = () => {
        if (!prepared.reader) return { rows: [], changes: prepared.run(bound).changes };
        const rows = prepared.all(bound) as Row[];
        return { rows, changes: statement.reads ? 0 : rows.length };
      };
    } catch (error) {
      return Promise.reject(error);
    }
    // A read needs no write lock and no commit: it runs at once, outside any batch.
    return statement.reads ? this.#read(execute) : this.#groupCommit.submit(execute);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#groupCommit.idle();
      await this.#checkpoints?.stop();
      this.#db.close();
    })();
    return this.#closing;
  }

  #prepare(statement: Statement): PreparedStatement {
    let prepared = this.#prepared.get(statement.text);
    if (!prepared) {
      prepared = this.#db.prepare(statement.text);
      this.#prepared.set(statement.text, prepared);
    }
    return prepared;
  }

  /** Readers wait for no lock in WAL mode but for rare moments (recovery): tried again until the deadline. */
  async #read(execute: () => SqlResult): Promise<SqlResult> {
    const deadline = performance.now() + this.#timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return execute();
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (performance.now() >= deadline) {
          throw Object.assign(new DatabaseTimeout('a read of the locked SQLite database', this.#timeoutMs), {
            cause: error,
          });
        }
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

export async function openSqlite(
  url: string,
  options: OpenOptions & { timeoutMs: number },
): Promise<SqliteDatabase> {
  const file = sqliteFilePath(url);
  const db = openSqliteFile(file, { timeout: BUSY_WAIT_MS });
  try {
    db.exec(PRAGMAS);
  } catch (error) {
    db.close();
    throw explainAccessError(file, error) ?? error;
  }
  return new SqliteDatabase(db, file, options);
}
