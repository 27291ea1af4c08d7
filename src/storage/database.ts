// Opens the database for DATABASE_URL through Prisma's driver adapter for it (better-sqlite3 or pg):
// one connection (SQLite) or pool (PostgreSQL), shared by the generated Prisma client and by the
// stores' raw SQL. The stores call the adapter directly: PrismaClient's raw-query path plans and
// interprets every call (a WebAssembly query compiler, then an interpreter), which cost ~1 ms of CPU
// per statement here against ~0.05 ms through the adapter alone (bench/, README "Performance").
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Pool } from 'pg';
import type { DatabaseKind } from '../config.js';
import { checkpointInBackground } from './background-checkpoint.js';
import { groupCommits } from './group-commit.js';
import { pipelineQueries } from './pg-pipeline.js';
import { prepareStatements } from './pg-prepared.js';
import { reusePreparedStatements } from './statement-cache.js';

/** The part of a Prisma client the application may use (the same for both generated clients). */
export interface SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
}

/** An argument's type, as Prisma's driver adapters take it (@prisma/driver-adapter-utils ArgType). */
export interface SqlArgType {
  scalarType: 'string' | 'int';
  arity: 'scalar';
}

export interface SqlQuery {
  sql: string;
  args: unknown[];
  argTypes: SqlArgType[];
}

const STRING_ARG: SqlArgType = { scalarType: 'string', arity: 'scalar' };
const INT_ARG: SqlArgType = { scalarType: 'int', arity: 'scalar' };

/**
 * A statement with its arguments, as the adapters take them. Times go as ISO-8601 text: SQLite
 * stores them so (as Prisma does) and compares them as strings; PostgreSQL reads the text into
 * timestamptz.
 */
export function sqlQuery(sql: string, values: readonly unknown[]): SqlQuery {
  const args: unknown[] = new Array(values.length);
  const argTypes: SqlArgType[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    args[i] = value instanceof Date ? value.toISOString() : value;
    argTypes[i] = typeof value === 'number' ? INT_ARG : STRING_ARG;
  }
  return { sql, args, argTypes };
}

/** A connected Prisma driver adapter (@prisma/driver-adapter-utils SqlDriverAdapter), as the stores use it. */
export interface SqlConnection {
  readonly provider: string;
  readonly adapterName: string;
  queryRaw(query: SqlQuery): Promise<{ columnNames: string[]; rows: unknown[][] }>;
  executeRaw(query: SqlQuery): Promise<number>;
  executeScript(script: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface Database {
  kind: DatabaseKind;
  /** the generated Prisma client, over the same connection as `sql`, loaded on first use */
  client: SqlClient;
  /** Prisma's driver adapter, connected: where the stores run their SQL */
  sql: SqlConnection;
  /** disconnects the client and releases the connection (pool) */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** called when a PostgreSQL connection drops outside a statement, instead of crashing the process */
  onPoolError?: (error: Error) => void;
  /**
   * SQLite: run WAL checkpoints on a worker thread instead of inside commits on the event loop
   * (background-checkpoint.ts). For the service's busy connection; off for occasional ones.
   */
  backgroundCheckpoints?: boolean;
  /** told when the checkpoint worker fails (the connection then checkpoints itself again) */
  onCheckpointError?: (error: Error) => void;
  /**
   * PostgreSQL: send statements pipelined over this many connections instead of one pooled
   * connection each, those of one event-loop turn on one connection sharing one transaction
   * (pg-pipeline.ts). For the service's busy pool; off (0) for occasional ones.
   */
  pipelineConnections?: number;
}

interface AdapterFactory {
  readonly provider: string;
  readonly adapterName: string;
  connect(): Promise<unknown>;
}

/**
 * Connects the adapter once and hands the client a factory that returns that same connection, so
 * the client and the stores share one connection (pool); the client's disconnect leaves it open,
 * close() releases it once.
 */
async function share(
  factory: AdapterFactory,
): Promise<{ sql: SqlConnection; adapter: AdapterFactory & { connect(): Promise<SqlConnection> } }> {
  const sql = (await factory.connect()) as SqlConnection;
  const borrowed = Object.create(sql, { dispose: { value: async () => {} } }) as SqlConnection;
  return {
    sql,
    adapter: { provider: factory.provider, adapterName: factory.adapterName, connect: async () => borrowed },
  };
}

/**
 * The generated Prisma client, loaded and constructed on first use. The service's own SQL (store,
 * purge) runs on the adapter, so a running service never pays for the client: its runtime and
 * WebAssembly query compiler hold about 36 MB once constructed.
 */
function lazyClient(load: () => Promise<SqlClient>): SqlClient {
  let loaded: Promise<SqlClient> | undefined;
  const client = () => {
    loaded ??= load();
    return loaded;
  };
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
      (await client()).$queryRawUnsafe<T>(query, ...values),
    $executeRawUnsafe: async (query: string, ...values: unknown[]) =>
      (await client()).$executeRawUnsafe(query, ...values),
    $connect: async () => (await client()).$connect(),
    // Nothing to disconnect when it was never loaded.
    $disconnect: async () => (loaded ? (await loaded).$disconnect() : undefined),
  };
}

function database(
  kind: DatabaseKind,
  client: SqlClient,
  sql: SqlConnection,
  beforeClose: () => Promise<void> = async () => {},
): Database {
  let closing: Promise<void> | undefined;
  return {
    kind,
    client,
    sql,
    close() {
      closing ??= beforeClose()
        .then(() => client.$disconnect())
        .finally(() => sql.dispose());
      return closing;
    },
  };
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
    const { PrismaBetterSQLite3 } = await import('@prisma/adapter-better-sqlite3');
    // timeout: how long a writer waits for another process's lock (replicas sharing one file).
    const { sql, adapter } = await share(
      new PrismaBetterSQLite3({ url: `file:${sqliteFilePath(url)}`, timeout: 10_000 }),
    );
    // WAL lets readers run beside the writer; NORMAL sync is durable across crashes in WAL mode.
    // A 16 MB page cache (2 MB by default) keeps the hot index pages in memory; measured no slower
    // than 32 MB, with less memory. Checkpoints (the only fsyncs under NORMAL) every 1,000 WAL
    // pages as SQLite does (4,000 paused the event loop longer: p99 41 ms against 20), or mostly
    // on a worker thread with backgroundCheckpoints (background-checkpoint.ts).
    // The adapter's own better-sqlite3 connection: keep its prepared statements (statement-cache.ts)
    // and group the store's writes into shared transactions (group-commit.ts).
    const driver = (sql as unknown as { client?: SqliteDatabase }).client;
    if (driver && typeof driver.prepare === 'function') reusePreparedStatements(driver);
    await sql.executeScript(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
       PRAGMA cache_size = -16000; PRAGMA wal_autocheckpoint = 1000; PRAGMA temp_store = MEMORY;`,
    );
    const client = lazyClient(async () => {
      const { PrismaClient } = await import('../generated/sqlite/client.js');
      return new PrismaClient({ adapter: adapter as never }) as unknown as SqlClient;
    });
    const file = sqliteFilePath(url);
    const checkpoints =
      driver && options.backgroundCheckpoints && file !== ':memory:'
        ? checkpointInBackground(driver, file, { onError: options.onCheckpointError })
        : undefined;
    return database(kind, client, driver ? groupCommits(sql, driver) : sql, async () => checkpoints?.stop());
  }
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { sql, adapter } = await share(
    new PrismaPg(
      { connectionString: url, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 },
      { onPoolError: options.onPoolError ?? (() => {}) },
    ),
  );
  // The adapter's pg Pool: each SQL text becomes a named statement, prepared once per connection,
  // and with pipelineConnections the statements share a few pipelined connections and commits.
  const pool = (sql as unknown as { client?: Pool }).client;
  const isPool = pool !== undefined && typeof pool.query === 'function';
  const pipeline =
    isPool && options.pipelineConnections
      ? pipelineQueries(pool, { connections: options.pipelineConnections, onError: options.onPoolError })
      : undefined;
  if (isPool) prepareStatements(pool);
  const client = lazyClient(async () => {
    const { PrismaClient } = await import('../generated/postgresql/client.js');
    return new PrismaClient({ adapter: adapter as never }) as unknown as SqlClient;
  });
  return database(kind, client, sql, async () => pipeline?.close());
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
