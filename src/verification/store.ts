// What the verification rules need from storage. The rules (service.ts) know nothing of Prisma or
// SQL; src/storage/verification-store.ts implements this for SQLite and PostgreSQL.

/** Stored states; "expired" is derived from expiresAt when reading. */
export type StoredStatus = 'pending' | 'approved' | 'locked' | 'failed' | 'canceled';
export type PublicStatus = StoredStatus | 'expired';

export interface NewVerification {
  id: string;
  serviceId: string;
  phoneNumber: string;
  tokenHash: string;
  codeHash: string;
  backend: string;
  locale: string | null;
  /** a /v2 start's PSD2 transaction (Twilio's Amount and Payee), kept to echo */
  amount?: string | null;
  payee?: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** A PSD2 transaction as Twilio's Verify takes it: both parts optional, kept as given. */
export interface Psd2Transaction {
  amount: string | null;
  payee: string | null;
}

export interface VerificationRecord {
  id: string;
  serviceId: string;
  phoneNumber: string;
  status: StoredStatus;
  failedAttempts: number;
  approvals: number;
  createdAt: Date;
  expiresAt: Date;
  verifiedAt: Date | null;
  locale: string | null;
  amount: string | null;
  payee: string | null;
  updatedAt: Date;
}

/** What became of one send: the backend's answer, then the provider's delivery receipt. */
export type SendStatus = 'sent' | 'failed' | 'delivered' | 'undelivered';

/** One send of a session's message through one backend (a fallback's send is another one). */
export interface SendRecord {
  id: string;
  channel: string;
  /** the backend's configured name (PHONE_VERIFICATION_BACKEND or _FALLBACK_BACKEND) */
  backend: string;
  status: SendStatus;
  /** the provider's id of the message (Twilio's SM…, Vonage's message-id, a webhook's `id`) */
  providerMessageId: string | null;
  /** why it failed or was not delivered: the provider's error code, or a transport code */
  errorCode: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewSendAttempt {
  id: string;
  verificationId: string;
  backend: string;
  status: 'sent' | 'failed';
  providerMessageId?: string | null;
  errorCode?: string | null;
  now: Date;
}

/** A provider's delivery receipt for one message, reduced to a final status. */
export interface DeliveryReceipt {
  /** the configured names of the backends that may have sent it (those whose signature matched) */
  backends: readonly string[];
  providerMessageId: string;
  status: 'delivered' | 'undelivered' | 'failed';
  errorCode: string | null;
  now: Date;
}

/** The row after one atomic code check, plus whether the submitted code matched. */
export interface CodeCheck {
  record: VerificationRecord;
  codeMatched: boolean;
}

export interface VerificationStore {
  /**
   * Inserts a pending session and tells whether the number may have other pending sessions. false
   * only when the store knows supersedeOthers would cancel nothing (no session ever returns to
   * pending, and the store sees every older one), so the service skips it; true when unsure.
   */
  insertPending(verification: NewVerification): Promise<{ othersPending: boolean }>;
  /**
   * Cancels the number's pending sessions created before the one just sent (never a newer one, so
   * the newest start survives concurrent starts in any order); returns how many.
   */
  supersedeOthers(serviceId: string, phoneNumber: string, keepId: string, now: Date): Promise<number>;
  markFailed(id: string, now: Date): Promise<void>;
  /**
   * One atomic check of a code against the session found by token and number, in a single
   * statement: approves it (pending, right code, not expired), or counts a wrong code and locks
   * the session at `maxFailedAttempts`. null when no session matches (nothing is counted).
   */
  checkCode(
    tokenHash: string,
    phoneNumber: string,
    codeHash: string,
    now: Date,
    maxFailedAttempts: number,
  ): Promise<CodeCheck | null>;
  findByToken(tokenHash: string, phoneNumber: string): Promise<VerificationRecord | null>;
  /** Approves a pending or approved session whatever its expiry (a backend said VALID). */
  approve(id: string, now: Date): Promise<VerificationRecord | null>;
  /** Counts one wrong code on a pending or approved session, locking it at the limit. */
  recordFailure(id: string, now: Date, maxFailedAttempts: number): Promise<VerificationRecord | null>;
  findById(id: string): Promise<VerificationRecord | null>;
  /** The newest pending or locked, unexpired session of a service for a number. */
  findLive(serviceId: string, phoneNumber: string, now: Date): Promise<VerificationRecord | null>;
  /**
   * Replaces a pending session's code and expiry (a re-send), and its PSD2 transaction where one
   * is given; null when it is no longer pending.
   */
  resend(
    id: string,
    codeHash: string,
    expiresAt: Date,
    now: Date,
    psd2?: Psd2Transaction,
  ): Promise<VerificationRecord | null>;
  /** Cancels a pending session; null when it was not pending. */
  cancel(id: string, now: Date): Promise<VerificationRecord | null>;
  insertSendAttempt(attempt: NewSendAttempt): Promise<void>;
  /** A session's sends, oldest first. */
  listSendAttempts(verificationId: string): Promise<SendRecord[]>;
  /**
   * Applies a delivery receipt to the send it names, if that send is still `sent` (the first final
   * receipt wins); returns the backend of the send it changed, or null (unknown, or already final).
   */
  recordDelivery(receipt: DeliveryReceipt): Promise<string | null>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function publicStatus(record: VerificationRecord, now: Date): PublicStatus {
  return record.status === 'pending' && record.expiresAt.getTime() <= now.getTime()
    ? 'expired'
    : record.status;
}
