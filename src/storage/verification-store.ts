// VerificationStore on SQLite and PostgreSQL in raw SQL through Prisma's driver adapter: every
// operation of the hot path is one statement (a code check is one conditional UPDATE … RETURNING),
// which is what makes single-use codes atomic under concurrency on both databases.
import type { DatabaseKind } from '../config.js';
import { ServiceUnavailable } from '../errors.js';
import type {
  CodeCheck,
  NewVerification,
  StoredStatus,
  VerificationRecord,
  VerificationStore,
} from '../verification/store.js';
import {
  type Database,
  isDatabaseUnavailable,
  type SqlConnection,
  type SqlQuery,
  sqlQuery,
} from './database.js';

/** SQL written with :named parameters, compiled once to the dialect's positional form. */
interface Statement {
  text: string;
  names: string[];
}

/** Byte order for text comparisons: PostgreSQL's default collation may not order ids bytewise. */
const BINARY_COLLATION: Record<DatabaseKind, string> = { sqlite: '', postgresql: 'COLLATE "C"' };

export function compile(kind: DatabaseKind, sql: string): Statement {
  const names: string[] = [];
  const text = sql
    .replace(/ BINARY_COLLATION/g, BINARY_COLLATION[kind] && ` ${BINARY_COLLATION[kind]}`)
    .replace(/(?<!:):([a-z_]+)/g, (_, name: string) => {
      if (kind === 'sqlite') {
        names.push(name);
        return '?';
      }
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      return `$${index + 1}`;
    });
  return { text, names };
}

const COLUMNS = 'id, phone_number, status, failed_attempts, approvals, created_at, expires_at, verified_at';

const INSERT = `INSERT INTO verifications
    (id, service_id, phone_number, channel, status, token_hash, code_hash, failed_attempts, approvals,
     backend, locale, created_at, expires_at, updated_at)
    VALUES (:id, :service_id, :phone, 'sms', 'pending', :token_hash, :code_hash, 0, 0,
     :backend, :locale, :now, :expires_at, :now)`;

const SQL = {
  insert: INSERT,
  // SQLite runs one write at a time (and ids are made in order: secrets.ts), so a session always
  // sees the pending ones inserted before it and is newer than all of them: when it sees none, its
  // supersede would cancel nothing. PostgreSQL inserts run side by side without seeing each other's
  // uncommitted rows, so there the supersede always runs.
  insertTellingOthers: `${INSERT}
    RETURNING EXISTS (SELECT 1 FROM verifications o WHERE o.service_id = :service_id
      AND o.phone_number = :phone AND o.status = 'pending' AND o.id <> :id) AS others_pending`,
  // Only sessions started before this one (by created_at, then id): of concurrent starts for one
  // number, the newest survives whatever order their supersedes run in, instead of each canceling
  // the others and leaving none.
  supersede: `UPDATE verifications SET status = 'canceled', updated_at = :now
    WHERE service_id = :service_id AND phone_number = :phone AND status = 'pending'
      AND (created_at < :now OR (created_at = :now AND id BINARY_COLLATION < :id))`,
  markFailed: `UPDATE verifications SET status = 'failed', updated_at = :now WHERE id = :id`,
  // Every SET expression reads the row as it was before this statement. A wrong code counts on a
  // locked session too, so the request that reached the limit (count == max) can be told apart
  // from later ones (count > max). approvals numbers the accepted checks: exactly one request
  // sees 1, whatever the concurrency, because the row is updated one statement at a time.
  checkCode: `UPDATE verifications SET
      status = CASE
        WHEN status = 'pending' AND code_hash = :code_hash AND expires_at > :now THEN 'approved'
        WHEN status IN ('pending', 'approved') AND code_hash <> :code_hash AND failed_attempts + 1 >= :max THEN 'locked'
        ELSE status END,
      failed_attempts = failed_attempts + CASE
        WHEN status IN ('pending', 'approved', 'locked') AND code_hash <> :code_hash THEN 1 ELSE 0 END,
      approvals = approvals + CASE
        WHEN status IN ('pending', 'approved') AND code_hash = :code_hash AND expires_at > :now THEN 1 ELSE 0 END,
      verified_at = CASE
        WHEN status = 'pending' AND code_hash = :code_hash AND expires_at > :now THEN :now ELSE verified_at END,
      updated_at = :now
    WHERE token_hash = :token_hash AND phone_number = :phone
    RETURNING ${COLUMNS}, (code_hash = :code_hash) AS code_matched`,
  findByToken: `SELECT ${COLUMNS} FROM verifications WHERE token_hash = :token_hash AND phone_number = :phone`,
  approve: `UPDATE verifications SET status = 'approved', approvals = approvals + 1,
      verified_at = COALESCE(verified_at, :now), updated_at = :now
    WHERE id = :id AND status IN ('pending', 'approved')
    RETURNING ${COLUMNS}`,
  recordFailure: `UPDATE verifications SET failed_attempts = failed_attempts + 1,
      status = CASE WHEN failed_attempts + 1 >= :max THEN 'locked' ELSE status END, updated_at = :now
    WHERE id = :id AND status IN ('pending', 'approved')
    RETURNING ${COLUMNS}`,
  findById: `SELECT ${COLUMNS} FROM verifications WHERE id = :id`,
  ping: 'SELECT 1 AS ok',
} as const;

type Row = Record<string, unknown>;

function unavailableOr(error: unknown): unknown {
  return isDatabaseUnavailable(error) ? Object.assign(new ServiceUnavailable(), { cause: error }) : error;
}

/** A SQL boolean: SQLite answers 0/1 (as text: the adapter turns its bigints into strings), PostgreSQL true/false. */
function isTrue(value: unknown): boolean {
  return value === true || Number(value) === 1;
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function toRecord(row: Row): VerificationRecord {
  return {
    id: String(row.id),
    phoneNumber: String(row.phone_number),
    status: String(row.status) as StoredStatus,
    failedAttempts: Number(row.failed_attempts),
    approvals: Number(row.approvals),
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    verifiedAt: row.verified_at == null ? null : toDate(row.verified_at),
  };
}

export class SqlVerificationStore implements VerificationStore {
  readonly #database: Database;
  readonly #sql: SqlConnection;
  readonly #statements: Record<keyof typeof SQL, Statement>;

  constructor(database: Database) {
    this.#database = database;
    this.#sql = database.sql;
    this.#statements = Object.fromEntries(
      Object.entries(SQL).map(([name, sql]) => [name, compile(database.kind, sql)]),
    ) as Record<keyof typeof SQL, Statement>;
  }

  /** The statement with its named parameters in the statement's order. */
  #query(name: keyof typeof SQL, params: Record<string, unknown>): SqlQuery {
    const { text, names } = this.#statements[name];
    return sqlQuery(
      text,
      names.map((key) => params[key]),
    );
  }

  async #rows(name: keyof typeof SQL, params: Record<string, unknown>): Promise<Row[]> {
    try {
      const { columnNames, rows } = await this.#sql.queryRaw(this.#query(name, params));
      return rows.map((values) => {
        const row: Row = {};
        for (let i = 0; i < columnNames.length; i++) row[columnNames[i]!] = values[i];
        return row;
      });
    } catch (error) {
      throw unavailableOr(error);
    }
  }

  async #execute(name: keyof typeof SQL, params: Record<string, unknown>): Promise<number> {
    try {
      return await this.#sql.executeRaw(this.#query(name, params));
    } catch (error) {
      throw unavailableOr(error);
    }
  }

  async insertPending(v: NewVerification): Promise<{ othersPending: boolean }> {
    const params = {
      id: v.id,
      service_id: v.serviceId,
      phone: v.phoneNumber,
      token_hash: v.tokenHash,
      code_hash: v.codeHash,
      backend: v.backend,
      locale: v.locale,
      now: v.createdAt,
      expires_at: v.expiresAt,
    };
    if (this.#database.kind !== 'sqlite') {
      await this.#execute('insert', params);
      return { othersPending: true };
    }
    const [row] = await this.#rows('insertTellingOthers', params);
    return { othersPending: isTrue(row?.others_pending) };
  }

  supersedeOthers(serviceId: string, phoneNumber: string, keepId: string, now: Date): Promise<number> {
    return this.#execute('supersede', { service_id: serviceId, phone: phoneNumber, id: keepId, now });
  }

  async markFailed(id: string, now: Date): Promise<void> {
    await this.#execute('markFailed', { id, now });
  }

  async checkCode(
    tokenHash: string,
    phoneNumber: string,
    codeHash: string,
    now: Date,
    max: number,
  ): Promise<CodeCheck | null> {
    const [row] = await this.#rows('checkCode', {
      token_hash: tokenHash,
      phone: phoneNumber,
      code_hash: codeHash,
      now,
      max,
    });
    return row ? { record: toRecord(row), codeMatched: isTrue(row.code_matched) } : null;
  }

  async findByToken(tokenHash: string, phoneNumber: string): Promise<VerificationRecord | null> {
    const [row] = await this.#rows('findByToken', { token_hash: tokenHash, phone: phoneNumber });
    return row ? toRecord(row) : null;
  }

  async approve(id: string, now: Date): Promise<VerificationRecord | null> {
    const [row] = await this.#rows('approve', { id, now });
    return row ? toRecord(row) : null;
  }

  async recordFailure(id: string, now: Date, max: number): Promise<VerificationRecord | null> {
    const [row] = await this.#rows('recordFailure', { id, now, max });
    return row ? toRecord(row) : null;
  }

  async findById(id: string): Promise<VerificationRecord | null> {
    const [row] = await this.#rows('findById', { id });
    return row ? toRecord(row) : null;
  }

  async ping(): Promise<void> {
    await this.#rows('ping', {});
  }

  close(): Promise<void> {
    return this.#database.close();
  }
}
