// Opens the Prisma client for DATABASE_URL: the SQLite or the PostgreSQL generated client, each
// over its driver adapter (no native engine). The client is created once and shared.
import type { DatabaseKind } from '../config.js';

/** The part of a Prisma client the stores use (the same for both generated clients). */
export interface SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
}

export interface Database {
  kind: DatabaseKind;
  client: SqlClient;
}

export interface OpenOptions {
  /** called when an idle PostgreSQL connection drops, instead of crashing the process */
  onPoolError?: (error: Error) => void;
}

export function sqliteFilePath(url: string): string {
  return url.replace(/^file:/, '').replace(/\?.*$/, '');
}

export async function openDatabase(
  kind: DatabaseKind,
  url: string,
  options: OpenOptions = {},
): Promise<Database> {
  if (kind === 'sqlite') {
    const [{ PrismaClient }, { PrismaBetterSQLite3 }] = await Promise.all([
      import('../generated/sqlite/client.js'),
      import('@prisma/adapter-better-sqlite3'),
    ]);
    // timeout: how long a writer waits for another process's lock (replicas sharing one file).
    const adapter = new PrismaBetterSQLite3({ url: `file:${sqliteFilePath(url)}`, timeout: 10_000 });
    const client = new PrismaClient({ adapter }) as unknown as SqlClient;
    // WAL lets readers run beside the writer; NORMAL sync is durable across crashes in WAL mode.
    await client.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await client.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
    await client.$executeRawUnsafe('PRAGMA foreign_keys = ON');
    return { kind, client };
  }
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
    import('../generated/postgresql/client.js'),
    import('@prisma/adapter-pg'),
  ]);
  const adapter = new PrismaPg(
    { connectionString: url, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 },
    { onPoolError: options.onPoolError ?? (() => {}) },
  );
  const client = new PrismaClient({ adapter }) as unknown as SqlClient;
  return { kind, client };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'P1001',
  'P1002',
  'P1017',
  'P2024',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|terminating connection|the database system is (starting up|shutting down)|Can't reach database|server closed the connection|Client has encountered a connection error|DatabaseNotReachable|ConnectionClosed|SocketTimeout|database is locked|unable to open database/i;

/** True when an error means "the database cannot be reached" rather than a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, kind, message, cause } = current as {
      code?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))
    )
      return true;
    if (typeof kind === 'string' && UNAVAILABLE_MESSAGE.test(kind)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    current = cause;
  }
  return false;
}
