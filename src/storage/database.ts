// The database of DATABASE_URL as the stores use it: a connection (SQLite) or pool (PostgreSQL)
// that this module's dialects open and own, driven through the drivers' public APIs only
// (better-sqlite3, node-postgres), with the dialect's statements compiled at open and a deadline on
// every operation. Stores and jobs (verification-store.ts, ../retention/purge.ts) run statements by
// name and never see SQL text or a driver.
import type { DatabaseKind } from '../config.js';
import type { CompiledSql, SqlParams, SqlResult, Statement } from './statement.js';

/** The deadline of one database operation when the caller sets none (DATABASE_TIMEOUT's default). */
export const DEFAULT_DATABASE_TIMEOUT_MS = 5_000;

export interface Database {
  readonly kind: DatabaseKind;
  /** the dialect's statements, by store and name */
  readonly sql: CompiledSql;
  /**
   * Runs one statement, in a transaction of its own as far as the caller can tell: answered once
   * it is durable. Fails with DatabaseTimeout past the deadline.
   */
  run(statement: Statement, params?: SqlParams): Promise<SqlResult>;
  /** Waits for the statements under way, then releases the connection (pool). Idempotent. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** the deadline of each operation, in milliseconds (DATABASE_TIMEOUT) */
  timeoutMs?: number;
  /** PostgreSQL: told when a connection fails outside any statement (it is then replaced) */
  onConnectionError?: (error: Error) => void;
  /**
   * SQLite: run WAL checkpoints on a worker thread instead of inside commits on the event loop
   * (sqlite/background-checkpoint.ts). For the service's busy connection; off for occasional ones.
   */
  backgroundCheckpoints?: boolean;
  /** told when the checkpoint worker fails (the connection then checkpoints itself again) */
  onCheckpointError?: (error: Error) => void;
  /**
   * PostgreSQL: send statements over this many pipelined connections, those one connection gets
   * in one event-loop turn sharing one transaction (postgresql/pipeline.ts), instead of one pooled
   * connection each. For the service's busy database; off (0) for occasional ones.
   */
  pipelineLanes?: number;
}

/** Opens the database; each dialect's driver is loaded only when its kind is used. */
export async function openDatabase(
  kind: DatabaseKind,
  url: string,
  options: OpenOptions = {},
): Promise<Database> {
  const settings = { ...options, timeoutMs: options.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS };
  if (kind === 'sqlite') {
    const { openSqlite } = await import('./sqlite/database.js');
    return openSqlite(url, settings);
  }
  const { openPostgres } = await import('./postgresql/database.js');
  return openPostgres(url, settings);
}
