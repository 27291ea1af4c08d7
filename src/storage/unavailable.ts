// Which database errors mean "the database cannot serve now" (answered 503 service_unavailable,
// and the service recovers by itself) rather than a bug (500), and the error a missed deadline
// raises.
import { ServiceUnavailable } from '../errors.js';
import type { Database } from './database.js';
import type { SqlParams, SqlResult, Statement } from './statement.js';

/** A database operation did not finish within its deadline (DATABASE_TIMEOUT). */
export class DatabaseTimeout extends Error {
  override name = 'DatabaseTimeout';
  readonly code = 'DATABASE_TIMEOUT';

  constructor(what: string, timeoutMs: number) {
    super(`${what} did not finish within ${timeoutMs} ms (DATABASE_TIMEOUT)`);
  }
}

/** A connection could not be opened: the network or the server failed before the server spoke. */
export class DatabaseUnreachable extends Error {
  override name = 'DatabaseUnreachable';
  readonly code = 'DATABASE_UNREACHABLE';

  constructor(cause: unknown) {
    super(`cannot connect to the database: ${(cause as Error | undefined)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

const UNAVAILABLE_CODES = new Set([
  'DATABASE_TIMEOUT',
  'DATABASE_UNREACHABLE',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  // PostgreSQL: canceled by statement_timeout, and lock_timeout
  '57014',
  '55P03',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
]);

// node-postgres raises these as plain Errors, without a code.
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|terminating connection|the database system is (starting up|shutting down)|server closed the connection|Client has encountered a connection error|database is locked|unable to open database/i;

/**
 * True when an error (or one of its causes) means the database cannot be reached or cannot answer
 * in time. PostgreSQL's classes 08 (connection exception) and 57P (operator intervention: shutdown,
 * crash recovery) count too.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))
    )
      return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    current = cause;
  }
  return false;
}

/** Runs one of a store's statements; a database that cannot serve now is 503 service_unavailable. */
export async function runStoreStatement(
  database: Database,
  statement: Statement,
  params: SqlParams,
): Promise<SqlResult> {
  try {
    return await database.run(statement, params);
  } catch (error) {
    throw isDatabaseUnavailable(error) ? Object.assign(new ServiceUnavailable(), { cause: error }) : error;
  }
}
