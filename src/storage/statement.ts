// The shape of a SQL statement as the stores use it, whatever the database: written once per
// dialect with :named parameters (src/storage/<dialect>/sql.ts), compiled at start into what the
// dialect's driver takes, and run by name. Every dialect defines the same statements with the same
// parameters (test/storage/sql.test.ts checks it), so a store is written once for both.
import type { DatabaseKind } from '../config.js';

/** A value bound to a parameter. Times go as ISO-8601 text; lists as a list parameter. */
export type SqlValue = string | number | boolean | null | Date | readonly string[];
export type SqlParams = Readonly<Record<string, SqlValue>>;
export type Row = Record<string, unknown>;

/** What a statement gave back: its rows (SELECT or RETURNING) and how many rows it changed. */
export interface SqlResult {
  rows: Row[];
  changes: number;
}

export interface Statement {
  /** unique per dialect: PostgreSQL prepares it under this name on each connection */
  readonly name: string;
  /** the SQL in the driver's own placeholder form */
  readonly text: string;
  /** parameter names in the order of the driver's positional placeholders (PostgreSQL) */
  readonly params: readonly string[];
  /** a SELECT: reads only, so it never waits for SQLite's write lock or joins a group commit */
  readonly reads: boolean;
}

/** The statements of the verification store. */
export type VerificationSql = Record<
  | 'insertPending'
  | 'supersede'
  | 'markFailed'
  | 'checkCode'
  | 'findByToken'
  | 'approve'
  | 'recordFailure'
  | 'findById'
  | 'findLive'
  | 'resend'
  | 'cancel'
  | 'insertSendAttempt'
  | 'listSendAttempts'
  | 'recordDelivery'
  | 'ping',
  string
>;

/** The statements of the retention purge. */
export type RetentionSql = Record<
  | 'countEligible'
  | 'selectEligible'
  | 'deleteSendAttempts'
  | 'deleteEligible'
  | 'countExpiredIdempotencyKeys'
  | 'deleteExpiredIdempotencyKeys',
  string
>;

/** The statements of the idempotency-key store. */
export type IdempotencySql = Record<'claim' | 'find' | 'complete' | 'release', string>;

/** The statements of the service (tenant) store. */
export type ServiceSql = Record<
  'insert' | 'find' | 'update' | 'deleteVerifications' | 'delete' | 'list',
  string
>;

/** Every statement of one dialect, grouped by the store (or job) that runs them. */
export interface DialectSql {
  verifications: VerificationSql;
  services: ServiceSql;
  retention: RetentionSql;
  idempotency: IdempotencySql;
}

export type CompiledSql<T extends DialectSql = DialectSql> = {
  [Group in keyof T]: { [Name in keyof T[Group]]: Statement };
};

/** `:name` outside a `::type` cast; names are lower-case with underscores. */
const PARAMETER = /(?<!:):([a-z_]+)/g;

/**
 * SQLite keeps the names (`@name`: better-sqlite3 binds them from an object); PostgreSQL numbers
 * them (`$1`, a name used twice keeps its number).
 */
export function compileStatement(kind: DatabaseKind, name: string, sql: string): Statement {
  const params: string[] = [];
  const text = sql.replace(PARAMETER, (_, param: string) => {
    if (kind === 'sqlite') {
      if (!params.includes(param)) params.push(param);
      return `@${param}`;
    }
    let index = params.indexOf(param);
    if (index === -1) index = params.push(param) - 1;
    return `$${index + 1}`;
  });
  return { name, text, params, reads: /^\s*SELECT\b/i.test(sql) };
}

/** Compiles every statement of a dialect; names are `<group>.<statement>`. */
export function compileSql<T extends DialectSql>(kind: DatabaseKind, sql: T): CompiledSql<T> {
  const compiled: Record<string, Record<string, Statement>> = {};
  for (const [group, statements] of Object.entries(sql)) {
    compiled[group] = {};
    for (const [name, text] of Object.entries(statements as Record<string, string>)) {
      compiled[group][name] = compileStatement(kind, `${group}.${name}`, text);
    }
  }
  return compiled as CompiledSql<T>;
}

/** A parameter value as both drivers take it: a Date becomes ISO-8601 text. */
export function toSqlValue(value: SqlValue): Exclude<SqlValue, Date> {
  return value instanceof Date ? value.toISOString() : value;
}

/** The values of `statement`'s parameters in order; a missing one is a bug in the caller. */
export function positionalValues(statement: Statement, params: SqlParams): unknown[] {
  return statement.params.map((name) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`statement ${statement.name}: no value for :${name}`);
    return toSqlValue(value);
  });
}
