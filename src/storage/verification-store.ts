// VerificationStore on SQLite and PostgreSQL: every operation is one statement of the dialect's
// `verifications` group (sqlite/sql.ts, postgresql/sql.ts); a code check is one conditional
// UPDATE … RETURNING, which is what makes single-use codes atomic under concurrency on both.
import type {
  CodeCheck,
  DeliveryReceipt,
  NewSendAttempt,
  NewVerification,
  Psd2Transaction,
  SendRecord,
  SendStatus,
  StoredStatus,
  VerificationRecord,
  VerificationStore,
} from '../verification/store.js';
import type { Database } from './database.js';
import type { Row, SqlParams, SqlResult, Statement } from './statement.js';
import { runStoreStatement } from './unavailable.js';

/** A SQL boolean: SQLite answers 0/1, PostgreSQL true/false. */
function isTrue(value: unknown): boolean {
  return value === true || value === 1;
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function toRecord(row: Row): VerificationRecord {
  return {
    id: String(row.id),
    serviceId: String(row.service_id),
    phoneNumber: String(row.phone_number),
    status: String(row.status) as StoredStatus,
    failedAttempts: Number(row.failed_attempts),
    approvals: Number(row.approvals),
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    verifiedAt: row.verified_at == null ? null : toDate(row.verified_at),
    locale: row.locale == null ? null : String(row.locale),
    amount: row.amount == null ? null : String(row.amount),
    payee: row.payee == null ? null : String(row.payee),
    updatedAt: toDate(row.updated_at),
  };
}

export class SqlVerificationStore implements VerificationStore {
  readonly #database: Database;
  readonly #sql: Database['sql']['verifications'];

  constructor(database: Database) {
    this.#database = database;
    this.#sql = database.sql.verifications;
  }

  #run(statement: Statement, params: SqlParams): Promise<SqlResult> {
    return runStoreStatement(this.#database, statement, params);
  }

  async #first(statement: Statement, params: SqlParams): Promise<Row | undefined> {
    return (await this.#run(statement, params)).rows[0];
  }

  async insertPending(v: NewVerification): Promise<{ othersPending: boolean }> {
    const row = await this.#first(this.#sql.insertPending, {
      id: v.id,
      service_id: v.serviceId,
      phone: v.phoneNumber,
      token_hash: v.tokenHash,
      code_hash: v.codeHash,
      backend: v.backend,
      locale: v.locale,
      amount: v.amount ?? null,
      payee: v.payee ?? null,
      now: v.createdAt,
      expires_at: v.expiresAt,
    });
    return { othersPending: isTrue(row?.others_pending) };
  }

  async supersedeOthers(serviceId: string, phoneNumber: string, keepId: string, now: Date): Promise<number> {
    const { changes } = await this.#run(this.#sql.supersede, {
      service_id: serviceId,
      phone: phoneNumber,
      id: keepId,
      now,
    });
    return changes;
  }

  async markFailed(id: string, now: Date): Promise<void> {
    await this.#run(this.#sql.markFailed, { id, now });
  }

  async checkCode(
    tokenHash: string,
    phoneNumber: string,
    codeHash: string,
    now: Date,
    max: number,
  ): Promise<CodeCheck | null> {
    const row = await this.#first(this.#sql.checkCode, {
      token_hash: tokenHash,
      phone: phoneNumber,
      code_hash: codeHash,
      now,
      max,
    });
    return row ? { record: toRecord(row), codeMatched: isTrue(row.code_matched) } : null;
  }

  async findByToken(tokenHash: string, phoneNumber: string): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.findByToken, { token_hash: tokenHash, phone: phoneNumber });
    return row ? toRecord(row) : null;
  }

  async approve(id: string, now: Date): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.approve, { id, now });
    return row ? toRecord(row) : null;
  }

  async recordFailure(id: string, now: Date, max: number): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.recordFailure, { id, now, max });
    return row ? toRecord(row) : null;
  }

  async findById(id: string): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.findById, { id });
    return row ? toRecord(row) : null;
  }

  async findLive(serviceId: string, phoneNumber: string, now: Date): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.findLive, { service_id: serviceId, phone: phoneNumber, now });
    return row ? toRecord(row) : null;
  }

  async resend(
    id: string,
    codeHash: string,
    expiresAt: Date,
    now: Date,
    psd2?: Psd2Transaction,
  ): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.resend, {
      id,
      code_hash: codeHash,
      expires_at: expiresAt,
      now,
      amount: psd2?.amount ?? null,
      payee: psd2?.payee ?? null,
    });
    return row ? toRecord(row) : null;
  }

  async cancel(id: string, now: Date): Promise<VerificationRecord | null> {
    const row = await this.#first(this.#sql.cancel, { id, now });
    return row ? toRecord(row) : null;
  }

  async insertSendAttempt(attempt: NewSendAttempt): Promise<void> {
    await this.#run(this.#sql.insertSendAttempt, {
      id: attempt.id,
      verification_id: attempt.verificationId,
      backend: attempt.backend,
      status: attempt.status,
      provider_message_id: attempt.providerMessageId ?? null,
      error_code: attempt.errorCode ?? null,
      now: attempt.now,
    });
  }

  async listSendAttempts(verificationId: string): Promise<SendRecord[]> {
    const { rows } = await this.#run(this.#sql.listSendAttempts, { verification_id: verificationId });
    return rows.map((row) => ({
      id: String(row.id),
      channel: String(row.channel),
      backend: String(row.backend),
      status: String(row.status) as SendStatus,
      providerMessageId: row.provider_message_id == null ? null : String(row.provider_message_id),
      errorCode: row.error_code == null ? null : String(row.error_code),
      createdAt: toDate(row.created_at),
      updatedAt: toDate(row.updated_at),
    }));
  }

  async recordDelivery(receipt: DeliveryReceipt): Promise<string | null> {
    const row = await this.#first(this.#sql.recordDelivery, {
      provider_message_id: receipt.providerMessageId,
      backends: receipt.backends,
      status: receipt.status,
      error_code: receipt.errorCode,
      now: receipt.now,
    });
    return row ? String(row.backend) : null;
  }

  async ping(): Promise<void> {
    await this.#run(this.#sql.ping, {});
  }

  close(): Promise<void> {
    return this.#database.close();
  }
}
