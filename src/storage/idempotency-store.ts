// IdempotencyStore on SQLite and PostgreSQL: the `idempotency` statements of the dialect's SQL.
// A claim is one INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING, atomic on both databases:
// of concurrent claims of one key, exactly one gets its row back.
import type { IdempotencyStore, KeyClaim, StoredKey } from '../idempotency/idempotent-starts.js';
import type { Database } from './database.js';
import type { SqlParams, SqlResult, Statement } from './statement.js';
import { runStoreStatement } from './unavailable.js';

export class SqlIdempotencyStore implements IdempotencyStore {
  readonly #database: Database;
  readonly #sql: Database['sql']['idempotency'];

  constructor(database: Database) {
    this.#database = database;
    this.#sql = database.sql.idempotency;
  }

  #run(statement: Statement, params: SqlParams): Promise<SqlResult> {
    return runStoreStatement(this.#database, statement, params);
  }

  async claim(row: KeyClaim): Promise<boolean> {
    const { rows } = await this.#run(this.#sql.claim, {
      key_hash: row.keyHash,
      fingerprint: row.fingerprint,
      claim: row.claim,
      now: row.now,
      locked_until: row.lockedUntil,
      expires_at: row.expiresAt,
    });
    return rows[0]?.claim === row.claim;
  }

  async find(keyHash: string): Promise<StoredKey | null> {
    const { rows } = await this.#run(this.#sql.find, { key_hash: keyHash });
    const row = rows[0];
    if (!row) return null;
    return {
      fingerprint: String(row.fingerprint),
      status: row.status === 'done' ? 'done' : 'pending',
      response: row.response == null ? null : String(row.response),
    };
  }

  async complete(keyHash: string, claim: string, responseStatus: number, response: string): Promise<boolean> {
    const { changes } = await this.#run(this.#sql.complete, {
      key_hash: keyHash,
      claim,
      response_status: responseStatus,
      response,
    });
    return changes > 0;
  }

  async release(keyHash: string, claim: string): Promise<void> {
    await this.#run(this.#sql.release, { key_hash: keyHash, claim });
  }
}
