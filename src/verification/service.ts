// The verification rules of django-phone-verify, independent of HTTP and of the database: start a
// session (code, token, message, send, supersede), check a code (expiry, single use, attempt
// lock), read a session. Outcomes other than success are thrown as the errors of errors.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { censoringLogger, type HeldSecrets, SecretsInFlight } from '../backends/backend-logger.js';
import {
  attachRuntime,
  type BackendLogger,
  BaseBackend,
  type SecurityCodeStatus,
  usesBaseValidation,
  withTokenLength,
} from '../backends/base.js';
import { sendWithFallback } from '../backends/fallback.js';
import { providerMessageId } from '../backends/message-id.js';
import {
  DEFAULT_SEND_TIMEOUT_MS,
  type SendChannel,
  type SendFailure,
  type SendOutcome,
  sendChannel,
} from '../backends/send.js';
import {
  BackendError,
  InternalErrorFromBackend,
  SecurityCodeAlreadyVerified,
  SecurityCodeExpired,
  SecurityCodeInvalid,
  TooManyAttempts,
} from '../errors.js';
import { chooseTemplate, renderMessage, type Templates } from './message.js';
import { normalizePhoneNumber } from './phone.js';
import { hashCode, hashToken, newId, sessionTokenFor } from './secrets.js';
import {
  type DeliveryReceipt,
  type Psd2Transaction,
  type PublicStatus,
  publicStatus,
  type SendRecord,
  type SendStatus,
  type VerificationRecord,
  type VerificationStore,
} from './store.js';

export interface VerificationSettings {
  appName: string;
  tokenLength: number;
  codeExpirySeconds: number;
  verifyCodeOnlyOnce: boolean;
  maxFailedAttempts: number;
  templates: Templates;
  /** PHONE_VERIFICATION_BACKEND, recorded on each session and in metrics */
  backendName: string;
  /** the tenant; "default" until several services are exposed */
  serviceId?: string;
  /** the per-number limit on starts; none when absent */
  phoneQuota?: PhoneQuota;
  /** SEND_TIMEOUT: the deadline of a send through a backend without a TIMEOUT of its own */
  sendTimeoutMs?: number;
  /** the SMS-bill protections (test numbers, destination policy, prefix limit, fraud guard, budget) */
  admission?: AdmissionChecks;
  /** PHONE_VERIFICATION_FALLBACK_BACKEND: sends a message the primary backend failed to send */
  fallback?: { name: string; backend: BaseBackend };
}

/** What the service asks of the SMS-bill protections (src/abuse/admission.ts). */
export interface AdmissionChecks {
  testCode(phoneNumber: string): string | undefined;
  checkDestination(phoneNumber: string): void;
  admit(phoneNumber: string): Promise<void>;
  approved(phoneNumber: string, startedAt: Date): Promise<void>;
}

/**
 * Limits starts per phone number (kept outside the domain: memory or Redis). `take` throws a
 * rate-limit error when the number is over its limit. Every start that reached the backend
 * counts, sent or failed; a start the service itself failed before that gives its slot back.
 */
export interface PhoneQuota {
  take(phoneNumber: string): Promise<{ release(): Promise<void> }>;
}

/** Why a check did not approve, as counted in metrics. */
export type CheckOutcome = 'approved' | 'invalid' | 'expired' | 'already_verified' | 'too_many_attempts';

/** Hooks for metrics; each is optional and must not throw. */
export interface VerificationObserver {
  started?(backend: string, phoneNumber: string): void;
  /** one send through one backend (a start that fails over sends twice) */
  sent?(backend: string, seconds: number, ok: boolean): void;
  /** the primary backend failed to send and the fallback is tried */
  failedOver?(backend: string, fallback: string): void;
  /** a delivery receipt changed a send's status */
  delivered?(backend: string, status: DeliveryReceipt['status']): void;
  checked?(backend: string, outcome: CheckOutcome, phoneNumber: string): void;
  /** a start the per-number limit refused */
  phoneLimited?(): void;
}

export interface StartRequest {
  phoneNumber: string;
  locale?: string;
  acceptLanguage?: string;
  /** the tenant (a service); absent: this service's own */
  serviceId?: string;
  /** the message's {app} for this start; absent: PHONE_VERIFICATION_APP_NAME */
  appName?: string;
  /** digits in the code; absent: TOKEN_LENGTH */
  codeLength?: number;
  /**
   * A session checked by its number (and id), not by a session token the client keeps: its token
   * is derived from its id, and each send is recorded.
   */
  checkedByNumber?: boolean;
  /** a pending session of the same number to send a new code on, instead of starting another */
  resendId?: string;
  /** a PSD2 transaction (Twilio's Amount and Payee), kept with the session to echo */
  psd2?: Psd2Transaction;
}

export interface StartedVerification {
  id: string;
  sessionToken: string;
  phoneNumber: string;
  status: 'pending';
  createdAt: Date;
  expiresAt: Date;
  /** the sends this start made, as recorded (a re-send's session also has its earlier ones) */
  sends: SendRecord[];
}

/** What a check of a number's (or a session id's) pending session came to. */
export type PendingCheck =
  | { outcome: 'approved' | 'wrong'; record: VerificationRecord }
  | { outcome: 'locked'; record: VerificationRecord }
  | { outcome: 'none' };

export interface VerifyRequest {
  phoneNumber: string;
  securityCode: string;
  sessionToken: string;
}

export interface ApprovedVerification {
  status: 'approved';
  phoneNumber: string;
  verifiedAt: Date;
}

/** What is known of a session's message reaching the phone: its latest send's status. */
export type DeliveryStatus = SendStatus | 'unknown';

export interface VerificationView {
  id: string;
  phoneNumber: string;
  status: PublicStatus;
  createdAt: Date;
  expiresAt: Date;
  verifiedAt: Date | null;
  attempts: number;
  deliveryStatus: DeliveryStatus;
  sendAttempts: SendRecord[];
}

interface Decision {
  status: SecurityCodeStatus;
  record: VerificationRecord | null;
}

const { SECURITY_CODE_VALID, SECURITY_CODE_INVALID, SECURITY_CODE_EXPIRED, SECURITY_CODE_VERIFIED } =
  BaseBackend;
const { SECURITY_CODE_TOO_MANY_ATTEMPTS } = BaseBackend;

/**
 * A failure as the log line's `err`: without a prototype, so pino's error serializer keeps its
 * `type` (it would name the plain object's constructor, "Object").
 */
function loggedFailure(failure: SendFailure): SendFailure {
  return Object.assign(Object.create(null) as SendFailure, failure);
}

export class VerificationService {
  readonly #serviceId: string;
  // The base check's verdict, carried out of an override of validateSecurityCode that called super
  // (see #customDecision). Concurrent verifies of one session pass the very same arguments, so
  // only the async context tells which verify a base call belongs to.
  readonly #baseDecision = new AsyncLocalStorage<{ decision?: Decision }>();
  /** the primary backend's channel, then the fallback's */
  readonly #channels: SendChannel[];
  // The codes and messages of the starts in flight, censored from every line the backend logs.
  readonly #secrets = new SecretsInFlight();

  constructor(
    private readonly store: VerificationStore,
    private readonly backend: BaseBackend,
    private readonly settings: VerificationSettings,
    private readonly logger: BackendLogger,
    private readonly observer: VerificationObserver = {},
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.#serviceId = settings.serviceId ?? 'default';
    const timeoutMs = settings.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
    this.#channels = [sendChannel(settings.backendName, backend, timeoutMs)];
    if (settings.fallback) {
      this.#channels.push(sendChannel(settings.fallback.name, settings.fallback.backend, timeoutMs));
    }
    for (const channel of this.#channels) {
      attachRuntime(channel.backend, {
        tokenLength: settings.tokenLength,
        logger: censoringLogger(logger, this.#secrets),
        messageLogger: logger,
        checkSecurityCode: (code, phone, token) => this.#baseCheck(code, phone, token),
      });
    }
  }

  async start(request: StartRequest): Promise<StartedVerification> {
    const phoneNumber = this.#normalize(request.phoneNumber);
    const { admission } = this.settings;
    // A test number gets its fixed code, sends nothing and skips every limit but the per-IP one.
    const testCode = admission?.testCode(phoneNumber);
    if (testCode !== undefined) return this.#start(phoneNumber, request, { reachedBackend: false }, testCode);
    admission?.checkDestination(phoneNumber);
    const slot = await this.#takePhoneSlot(phoneNumber);
    const progress = { reachedBackend: false };
    try {
      await admission?.admit(phoneNumber);
      return await this.#start(phoneNumber, request, progress);
    } catch (error) {
      if (slot && !progress.reachedBackend) await slot.release().catch(() => {});
      throw error;
    }
  }

  async #takePhoneSlot(phoneNumber: string) {
    try {
      return await this.settings.phoneQuota?.take(phoneNumber);
    } catch (error) {
      this.observer.phoneLimited?.();
      throw error;
    }
  }

  async #start(
    phoneNumber: string,
    request: StartRequest,
    progress: { reachedBackend: boolean },
    testCode?: string,
  ): Promise<StartedVerification> {
    // This start's code and message are censored from the backend's log lines while it runs.
    const held = this.#secrets.hold();
    try {
      return await this.#startHolding(phoneNumber, request, progress, held, testCode);
    } finally {
      held.release();
    }
  }

  async #startHolding(
    phoneNumber: string,
    request: StartRequest,
    progress: { reachedBackend: boolean },
    held: HeldSecrets,
    testCode: string | undefined,
  ): Promise<StartedVerification> {
    const { backend, settings } = this;
    const securityCode =
      testCode ??
      String(await withTokenLength(backend, request.codeLength, () => backend.generateSecurityCode()));
    held.holdCode(securityCode);
    const appName = request.appName ?? settings.appName;
    const serviceId = request.serviceId ?? this.#serviceId;
    const { template, locale } = chooseTemplate(settings.templates, request.locale, request.acceptLanguage);
    const custom = await backend.generateMessage(securityCode, { app: appName, phoneNumber, locale });
    const message = String(custom ?? renderMessage(template, { app: appName, security_code: securityCode }));
    held.holdMessage(message);

    const now = this.clock();
    const expiresAt = new Date(now.getTime() + settings.codeExpirySeconds * 1000);
    // A re-send keeps the session (its id, token and attempts) and replaces only its code.
    const resent = request.resendId
      ? await this.store.resend(
          request.resendId,
          hashCode(sessionTokenFor(request.resendId), securityCode),
          expiresAt,
          now,
          request.psd2,
        )
      : null;
    const id = resent?.id ?? newId(now.getTime());
    const createdAt = resent?.createdAt ?? now;
    const sessionToken = request.checkedByNumber
      ? sessionTokenFor(id)
      : String(await backend.generateSessionToken(phoneNumber));
    let othersPending = false;
    if (!resent) {
      ({ othersPending } = await this.store.insertPending({
        id,
        serviceId,
        phoneNumber,
        tokenHash: hashToken(sessionToken),
        codeHash: hashCode(sessionToken, securityCode),
        backend: settings.backendName,
        locale: locale ?? null,
        amount: request.psd2?.amount ?? null,
        payee: request.psd2?.payee ?? null,
        createdAt: now,
        expiresAt,
      }));
    }
    if (testCode !== undefined) {
      if (othersPending) await this.store.supersedeOthers(serviceId, phoneNumber, id, now);
      return { id, sessionToken, phoneNumber, status: 'pending', createdAt, expiresAt, sends: [] };
    }
    this.observer.started?.(settings.backendName, phoneNumber);

    progress.reachedBackend = true;
    const sent = await this.#send(id, phoneNumber, { number: phoneNumber, message, code: securityCode });
    if (!sent.ok) {
      // A backend cut at its deadline may still be running, and log what it was sending.
      if (sent.timedOut) held.keepAfterRelease();
      this.logger.error(
        {
          verification_id: id,
          backend: sent.backend,
          phone_number: phoneNumber,
          err: loggedFailure(sent.failure),
        },
        'SMS backend failed to send; verification marked failed',
      );
      await this.store.markFailed(id, this.clock());
      throw new BackendError();
    }
    // Only once the new code is out do the number's older pending codes stop working.
    if (othersPending) await this.store.supersedeOthers(serviceId, phoneNumber, id, now);
    return { id, sessionToken, phoneNumber, status: 'pending', createdAt, expiresAt, sends: sent.sends };
  }

  /**
   * The send step: the primary backend, then the fallback when the primary failed; each send is
   * recorded as a send attempt. Answers the last send's outcome (the one that sent, or the last
   * failure). A timed-out send that failed over keeps the start's secrets held (it may still log).
   */
  async #send(id: string, phoneNumber: string, sms: { number: string; message: string; code: string }) {
    let timedOut = false;
    const outcomes = await sendWithFallback(this.#channels, sms, (failed, next) => {
      timedOut ||= failed.timedOut;
      this.observer.failedOver?.(failed.backend, next.name);
      this.logger.warn(
        {
          verification_id: id,
          backend: failed.backend,
          fallback: next.name,
          phone_number: phoneNumber,
          err: loggedFailure(failed.failure),
        },
        'SMS backend failed to send; sending through the fallback backend',
      );
    });
    const sends: SendRecord[] = [];
    for (const outcome of outcomes) {
      this.observer.sent?.(outcome.backend, outcome.seconds, outcome.ok);
      const attempt = attemptOf(id, outcome, this.clock());
      await this.store.insertSendAttempt(attempt);
      sends.push(sendRecordOf(attempt));
    }
    const last = outcomes.at(-1) as SendOutcome;
    return last.ok ? { ...last, sends } : { ...last, sends, timedOut: timedOut || last.timedOut };
  }

  /**
   * Checks a code against a service's live session, found by number or by id (sessions started
   * with checkedByNumber): approved, a wrong code, a locked session, or none to check.
   */
  async checkPending(
    serviceId: string,
    target: { phoneNumber: string } | { id: string },
    securityCode: string,
  ): Promise<PendingCheck> {
    const now = this.clock();
    let record: VerificationRecord | null;
    if ('id' in target) {
      record = await this.store.findById(target.id);
      const live = record && record.expiresAt.getTime() > now.getTime();
      if (!record || record.serviceId !== serviceId || !live) return { outcome: 'none' };
      if (record.status !== 'pending' && record.status !== 'locked') return { outcome: 'none' };
    } else {
      record = await this.store.findLive(serviceId, this.#normalize(target.phoneNumber), now);
      if (!record) return { outcome: 'none' };
    }
    if (record.status === 'locked') return { outcome: 'locked', record };
    const token = sessionTokenFor(record.id);
    const decision = usesBaseValidation(this.backend)
      ? await this.#decide(securityCode, record.phoneNumber, token)
      : await this.#customDecision(securityCode, record.phoneNumber, token);
    this.observer.checked?.(this.settings.backendName, outcomeOf(decision.status), record.phoneNumber);
    const latest = decision.record ?? record;
    switch (decision.status) {
      case SECURITY_CODE_VALID:
        await this.#converted(latest);
        return { outcome: 'approved', record: latest };
      case SECURITY_CODE_TOO_MANY_ATTEMPTS:
        return { outcome: 'locked', record: latest };
      case SECURITY_CODE_INVALID:
        return { outcome: 'wrong', record: latest };
      default: // expired, already verified
        return { outcome: 'none' };
    }
  }

  /** A session as stored, with its sends (for the compatibility APIs). */
  async record(id: string): Promise<{ record: VerificationRecord; sends: SendRecord[] } | null> {
    // Both at once: on PostgreSQL they go out in one pipelined write.
    const [record, sends] = await Promise.all([this.store.findById(id), this.store.listSendAttempts(id)]);
    return record ? { record, sends } : null;
  }

  /**
   * Applies a provider's (already authenticated) delivery receipt; true when it changed a send, false
   * for a message this service does not know or one already final (both answered 200 by the routes,
   * so the provider stops retrying).
   */
  async recordDelivery(receipt: Omit<DeliveryReceipt, 'now'>): Promise<boolean> {
    const backend = await this.store.recordDelivery({ ...receipt, now: this.clock() });
    if (backend === null) return false;
    this.observer.delivered?.(backend, receipt.status);
    return true;
  }

  /** Cancels a pending session; null when it was not pending. */
  cancel(id: string): Promise<VerificationRecord | null> {
    return this.store.cancel(id, this.clock());
  }

  /** Approves a pending session without a code (an operator's or Twilio's Status=approved). */
  approve(id: string): Promise<VerificationRecord | null> {
    return this.store.approve(id, this.clock());
  }

  /** The first approval of a session is the conversion the fraud guard counts (later ones are not). */
  async #converted(record: VerificationRecord): Promise<void> {
    if (record.approvals === 1) await this.settings.admission?.approved(record.phoneNumber, record.createdAt);
  }

  /** E.164, or a TEST_PHONE_NUMBERS entry as written (reserved ranges such as +1 555 01xx are not valid numbers). */
  #normalize(input: string): string {
    const trimmed = input.trim();
    if (this.settings.admission?.testCode(trimmed) !== undefined) return trimmed;
    return normalizePhoneNumber(input);
  }

  async verify(request: VerifyRequest): Promise<ApprovedVerification> {
    const phoneNumber = this.#normalize(request.phoneNumber);
    const decision = usesBaseValidation(this.backend)
      ? await this.#decide(request.securityCode, phoneNumber, request.sessionToken)
      : await this.#customDecision(request.securityCode, phoneNumber, request.sessionToken);
    this.observer.checked?.(this.settings.backendName, outcomeOf(decision.status), phoneNumber);
    if (decision.status === SECURITY_CODE_VALID && decision.record) {
      await this.#converted(decision.record);
      return { status: 'approved', phoneNumber, verifiedAt: decision.record.verifiedAt ?? this.clock() };
    }
    throw errorFor(decision.status);
  }

  async get(id: string): Promise<VerificationView | null> {
    const found = await this.record(id);
    if (!found) return null;
    const { record, sends: sendAttempts } = found;
    return {
      id: record.id,
      phoneNumber: record.phoneNumber,
      status: publicStatus(record, this.clock()),
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      verifiedAt: record.verifiedAt,
      attempts: record.failedAttempts,
      deliveryStatus: sendAttempts.at(-1)?.status ?? 'unknown',
      sendAttempts,
    };
  }

  /** The store-backed check, as the base validateSecurityCode exposes it to backends. */
  async #baseCheck(
    securityCode: string,
    phoneNumber: string,
    sessionToken: string,
  ): Promise<SecurityCodeStatus> {
    const decision = await this.#decide(String(securityCode), String(phoneNumber), String(sessionToken));
    const context = this.#baseDecision.getStore();
    if (context) context.decision = decision;
    return decision.status;
  }

  /** One atomic statement decides; its returned row tells which outcome this request got. */
  async #decide(securityCode: string, phoneNumber: string, sessionToken: string): Promise<Decision> {
    const now = this.clock();
    const { maxFailedAttempts, verifyCodeOnlyOnce } = this.settings;
    const check = await this.store.checkCode(
      hashToken(sessionToken),
      phoneNumber,
      hashCode(sessionToken, securityCode),
      now,
      maxFailedAttempts,
    );
    if (!check) return { status: SECURITY_CODE_INVALID, record: null };
    const { record, codeMatched } = check;
    const live = record.expiresAt.getTime() > now.getTime();
    switch (record.status) {
      case 'locked':
        // The wrong code that reached the limit is still just a wrong code; the lock shows after.
        return {
          status:
            !codeMatched && record.failedAttempts === maxFailedAttempts
              ? SECURITY_CODE_INVALID
              : SECURITY_CODE_TOO_MANY_ATTEMPTS,
          record,
        };
      case 'approved':
        if (!codeMatched) return { status: SECURITY_CODE_INVALID, record };
        if (!live) return { status: SECURITY_CODE_EXPIRED, record };
        // approvals counts every accepted check; only the first one approves a single-use code.
        return {
          status:
            record.approvals === 1 || !verifyCodeOnlyOnce ? SECURITY_CODE_VALID : SECURITY_CODE_VERIFIED,
          record,
        };
      case 'pending':
        return { status: codeMatched && !live ? SECURITY_CODE_EXPIRED : SECURITY_CODE_INVALID, record };
      default:
        return { status: SECURITY_CODE_INVALID, record };
    }
  }

  /**
   * A backend with its own validateSecurityCode decides; the service keeps the books for the status
   * it returns (approve for VALID, count a wrong code for INVALID). An override may also call the
   * base, which books its own verdict atomically (that is what keeps exactly one approval of a
   * single-use code under concurrency); when the override returns that very verdict it is not
   * booked twice. The one-way alternative, a base that only reads and a service that books
   * afterwards, cannot tell an override echoing the base from one answering VALID on its own: one
   * of them would lose either single use under concurrency or "VALID approves, whatever".
   */
  async #customDecision(securityCode: string, phoneNumber: string, sessionToken: string): Promise<Decision> {
    const session = await this.store.findByToken(hashToken(sessionToken), phoneNumber);
    if (!session || session.status === 'canceled' || session.status === 'failed') {
      return { status: SECURITY_CODE_INVALID, record: null };
    }
    if (session.status === 'locked') return { status: SECURITY_CODE_TOO_MANY_ATTEMPTS, record: session };

    const context: { decision?: Decision } = {};
    const raw = await this.#baseDecision.run(context, () =>
      this.backend.validateSecurityCode(securityCode, phoneNumber, sessionToken),
    );
    // django-phone-verify's validateSecurityCode returns (record, status)
    const status = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (![0, 1, 2, 3, 4, 5].includes(status)) {
      throw new InternalErrorFromBackend(`validateSecurityCode returned ${JSON.stringify(status)}`);
    }
    // The base check already did the bookkeeping for the status it returned.
    if (context.decision && context.decision.status === status) return context.decision;

    const now = this.clock();
    if (status === SECURITY_CODE_VALID) {
      const record = await this.store.approve(session.id, now);
      return record ? { status, record } : { status: SECURITY_CODE_INVALID, record: null };
    }
    if (status === SECURITY_CODE_INVALID) {
      await this.store.recordFailure(session.id, now, this.settings.maxFailedAttempts);
    }
    return { status, record: session };
  }
}

/** One send as its send_attempts row: the provider's message id when sent, the error code when not. */
function attemptOf(verificationId: string, outcome: SendOutcome, now: Date) {
  return {
    id: newId(now.getTime()),
    verificationId,
    backend: outcome.backend,
    status: outcome.ok ? ('sent' as const) : ('failed' as const),
    providerMessageId: outcome.ok ? providerMessageId(outcome.result) : null,
    errorCode: outcome.ok ? null : (outcome.failure.code?.slice(0, 64) ?? null),
    now,
  };
}

/** The send as listSendAttempts would read it back. */
function sendRecordOf(attempt: ReturnType<typeof attemptOf>): SendRecord {
  return {
    id: attempt.id,
    channel: 'sms',
    backend: attempt.backend,
    status: attempt.status,
    providerMessageId: attempt.providerMessageId,
    errorCode: attempt.errorCode,
    createdAt: attempt.now,
    updatedAt: attempt.now,
  };
}

function outcomeOf(status: SecurityCodeStatus): CheckOutcome {
  switch (status) {
    case SECURITY_CODE_VALID:
      return 'approved';
    case SECURITY_CODE_EXPIRED:
      return 'expired';
    case SECURITY_CODE_VERIFIED:
      return 'already_verified';
    case SECURITY_CODE_TOO_MANY_ATTEMPTS:
      return 'too_many_attempts';
    default:
      return 'invalid';
  }
}

function errorFor(status: SecurityCodeStatus): Error {
  switch (status) {
    case SECURITY_CODE_EXPIRED:
      return new SecurityCodeExpired();
    case SECURITY_CODE_VERIFIED:
      return new SecurityCodeAlreadyVerified();
    case SECURITY_CODE_TOO_MANY_ATTEMPTS:
      return new TooManyAttempts();
    default: // SECURITY_CODE_INVALID, SESSION_TOKEN_INVALID
      return new SecurityCodeInvalid();
  }
}
