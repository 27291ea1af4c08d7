// PostgreSQL through node-postgres: a pg.Pool of our own, each statement sent by name (prepared
// once per connection, then only bound and executed), and a deadline on every statement. With
// `pipelineLanes` (the service's own database) statements go pipelined and group-committed over a
// few connections (pipeline.ts), and the pool runs what those give back.
//
// Deadlines: waiting for a pooled connection or opening one is bounded by connectionTimeoutMillis;
// on the server, statement_timeout and lock_timeout bound a statement (a row lock held elsewhere
// included), and the connection stays usable; and in case the server answers nothing at all (a
// silent network, a frozen host), the client gives up GRACE_MS later and destroys that connection,
// so none is reused in an unknown state. TCP keepalive finds connections whose peer vanished
// while they sat idle.
import pg from 'pg';
import type { Database, OpenOptions } from '../database.js';
import {
  compileSql,
  positionalValues,
  type Row,
  type SqlParams,
  type SqlResult,
  type Statement,
} from '../statement.js';
import { DatabaseTimeout } from '../unavailable.js';
import { Pipeline } from './pipeline.js';
import { POSTGRESQL_SQL } from './sql.js';

/** Connections of the pool: each request's statement holds one for its round trip. */
export const POOL_SIZE = 10;
/** How much longer than the server's own timeouts the client waits before it gives a connection up. */
export const GRACE_MS = 1_000;
/** Idle time before the first keepalive probe of a connection. */
const KEEPALIVE_DELAY_MS = 10_000;
/** A connection left idle this long is closed (the pool opens new ones as needed). */
const IDLE_TIMEOUT_MS = 30_000;

const SQL = compileSql('postgresql', POSTGRESQL_SQL);

/** An ERROR the server reported for one statement: the connection itself is fine. */
function isStatementError(error: unknown): boolean {
  return (error as { severity?: unknown } | null)?.severity === 'ERROR';
}

export class PostgresDatabase implements Database {
  readonly kind = 'postgresql' as const;
  readonly sql = SQL;
  readonly #pool: pg.Pool;
  readonly #pipeline: Pipeline | undefined;
  readonly #timeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(url: string, options: OpenOptions & { timeoutMs: number }) {
    this.#timeoutMs = options.timeoutMs;
    const connection: pg.ClientConfig = {
      connectionString: url,
      connectionTimeoutMillis: options.timeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      statement_timeout: options.timeoutMs,
      application_name: 'phone-verify',
    };
    this.#pool = new pg.Pool({
      ...connection,
      max: POOL_SIZE,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      lock_timeout: options.timeoutMs,
    });
    // An idle connection the server dropped: the pool removes it and opens another when needed.
    this.#pool.on('error', (error) => options.onConnectionError?.(error));
    // A checked-out connection that fails reports it here too (its statement fails with it); without a
    // listener the error would end the process.
    this.#pool.on('connect', (client) => client.on('error', () => {}));
    if (options.pipelineLanes) {
      this.#pipeline = new Pipeline({
        // In pipeline mode node-postgres destroys a connection whose statement's answer is late.
        client: { ...connection, query_timeout: options.timeoutMs + GRACE_MS },
        lanes: options.pipelineLanes,
        alone: (query) => this.#pooled(query),
        onError: options.onConnectionError,
      });
    }
  }

  async run(statement: Statement, params: SqlParams = {}): Promise<SqlResult> {
    if (this.#closing) throw new Error('the database is closed');
    const query = { name: statement.name, text: statement.text, values: positionalValues(statement, params) };
    const result = await (this.#pipeline ? this.#pipeline.query(query) : this.#pooled(query));
    return { rows: result.rows, changes: result.rowCount ?? 0 };
  }

  /** One statement on a pooled connection, within the deadline. */
  async #pooled(query: pg.QueryConfig): Promise<pg.QueryResult<Row>> {
    const deadline = performance.now() + this.#timeoutMs + GRACE_MS;
    const client = await this.#pool.connect();
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        const error = new DatabaseTimeout(`statement ${query.name}`, this.#timeoutMs);
        client.release(error); // the pool destroys the connection: its state is unknown
        reject(error);
      }, deadline - performance.now());
      client.query<Row>(query).then(
        (result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          client.release();
          resolve(result);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          client.release(isStatementError(error) ? undefined : (error as Error));
          reject(error);
        },
      );
    });
  }

  close(): Promise<void> {
    // pool.end() waits for the connections checked out to be released.
    this.#closing ??= (async () => {
      await this.#pipeline?.close();
      await this.#pool.end();
    })();
    return this.#closing;
  }
}

export async function openPostgres(
  url: string,
  options: OpenOptions & { timeoutMs: number },
): Promise<PostgresDatabase> {
  return new PostgresDatabase(url, options);
}
