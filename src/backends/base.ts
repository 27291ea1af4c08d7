// The backend contract of django-phone-verify's BaseBackend, in camelCase (docs/backends.md).
// Built-in and custom backends extend it; the service talks to backends only through it.
import { randomInt } from 'node:crypto';
import { randomBytesPooled } from '../verification/secrets.js';

/** One of BaseBackend.SECURITY_CODE_VALID … SECURITY_CODE_TOO_MANY_ATTEMPTS. */
export type SecurityCodeStatus = 0 | 1 | 2 | 3 | 4 | 5;

/** What generateMessage receives beside the code. */
export interface MessageContext {
  /** PHONE_VERIFICATION_APP_NAME */
  app: string;
  /** the E.164 number the message goes to */
  phoneNumber: string;
  /** the language chosen for the message (e.g. "pt-BR"), when one was requested */
  locale?: string;
}

/** The outcome of one number in sendBulkSms. */
export interface BulkSmsOutcome {
  number: string;
  ok: boolean;
  /** provider's answer on success (e.g. a message id), if sendSms returned one */
  result?: unknown;
  /** why the send failed, when ok is false */
  error?: string;
}

/** The minimal logger a backend may use (pino-compatible). */
export interface BackendLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/**
 * What the service gives a backend after constructing it (not part of the plugin contract). Kept
 * beside the backend, not on it: a plugin sees nothing of it but `this.logger` and the base methods.
 */
export interface BackendRuntime {
  tokenLength: number;
  /** `this.logger`: censors the codes and messages of the sends in flight */
  logger: BackendLogger;
  /** the same log uncensored, for the console backend, whose purpose is to log the message */
  messageLogger?: BackendLogger;
  /**
   * The service's own check of a code against its stored session: django-phone-verify's base validation,
   * which decides and books the outcome (approval, wrong code, lock) in one atomic statement.
   */
  checkSecurityCode(
    securityCode: string,
    phoneNumber: string,
    sessionToken: string,
  ): Promise<SecurityCodeStatus>;
}

// One BaseBackend class serves the service and its plugins (src/backends/self-import.ts), so one
// map holds every backend's runtime.
const runtimes = new WeakMap<BaseBackend, BackendRuntime>();

const silentLogger: BackendLogger = { info() {}, warn() {}, error() {}, debug() {} };

export class BaseBackend {
  static readonly SECURITY_CODE_VALID = 0 as const;
  static readonly SECURITY_CODE_INVALID = 1 as const;
  static readonly SECURITY_CODE_EXPIRED = 2 as const;
  static readonly SECURITY_CODE_VERIFIED = 3 as const;
  static readonly SESSION_TOKEN_INVALID = 4 as const;
  static readonly SECURITY_CODE_TOO_MANY_ATTEMPTS = 5 as const;

  // django-phone-verify reads the constants through self; keep that spelling working too.
  readonly SECURITY_CODE_VALID = 0 as const;
  readonly SECURITY_CODE_INVALID = 1 as const;
  readonly SECURITY_CODE_EXPIRED = 2 as const;
  readonly SECURITY_CODE_VERIFIED = 3 as const;
  readonly SESSION_TOKEN_INVALID = 4 as const;
  readonly SECURITY_CODE_TOO_MANY_ATTEMPTS = 5 as const;

  /** How many sends sendBulkSms runs at once. */
  static bulkConcurrency = 5;

  /** The options from PHONE_VERIFICATION_OPTIONS*, keys lower-cased. */
  readonly options: Record<string, unknown>;

  constructor(options: Record<string, unknown> = {}) {
    this.options = Object.fromEntries(
      Object.entries(options ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
    );
  }

  /** The service's logger (silent until the service attaches it). */
  protected get logger(): BackendLogger {
    return runtimes.get(this)?.logger ?? silentLogger;
  }

  /** Sends one message. Throw (or reject) to report a failed send. */
  sendSms(_number: string, _message: string): unknown {
    throw new Error(`${this.constructor.name} does not implement sendSms(number, message)`);
  }

  /** Sends one message to many numbers, a few at a time; one failure does not stop the rest. */
  async sendBulkSms(numbers: string[], message: string): Promise<BulkSmsOutcome[]> {
    const outcomes: BulkSmsOutcome[] = new Array(numbers.length);
    const concurrency = Math.max(1, (this.constructor as typeof BaseBackend).bulkConcurrency ?? 5);
    let next = 0;
    const worker = async () => {
      while (next < numbers.length) {
        const index = next++;
        const number = numbers[index]!;
        try {
          const result = await this.sendSms(number, message);
          outcomes[index] = result === undefined ? { number, ok: true } : { number, ok: true, result };
        } catch (error) {
          outcomes[index] = {
            number,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, numbers.length) }, worker));
    return outcomes;
  }

  /** TOKEN_LENGTH random digits from a CSPRNG (leading zeros kept). */
  generateSecurityCode(): string {
    const length = runtimes.get(this)?.tokenLength ?? 6;
    let code = '';
    for (let i = 0; i < length; i++) code += String(randomInt(10));
    return code;
  }

  /** An opaque 256-bit token, base64url; the number is not part of it. */
  generateSessionToken(_phoneNumber: string): string {
    return randomBytesPooled(32).toString('base64url');
  }

  /** A message of the backend's own; return nothing to use the configured template. */
  generateMessage(
    _securityCode: string,
    _context: MessageContext,
  ): string | undefined | null | Promise<string | undefined | null> {
    return undefined;
  }

  /**
   * Decides whether a code is right for a session. The base asks the service's store, which checks
   * expiry, single use and the attempt lock, and books the outcome, in one atomic statement.
   * Override it for a sandbox; whatever you return is honoured (SECURITY_CODE_VALID approves the
   * session). An override may call super.validateSecurityCode(…) and use or change its answer.
   *
   * That is why this one method calls back into the service instead of the service deciding alone:
   * django-phone-verify's contract lets an override ask the base for the real verdict of exactly this call,
   * and only the store knows it. When no override exists the service decides directly and this
   * method is never called.
   */
  validateSecurityCode(
    securityCode: string,
    phoneNumber: string,
    sessionToken: string,
  ): Promise<SecurityCodeStatus> {
    const runtime = runtimes.get(this);
    if (!runtime) return Promise.resolve(BaseBackend.SECURITY_CODE_INVALID);
    return runtime.checkSecurityCode(securityCode, phoneNumber, sessionToken);
  }
}

/** Gives a constructed backend what it needs from the service. */
export function attachRuntime(backend: BaseBackend, runtime: BackendRuntime): void {
  runtimes.set(backend, runtime);
}

/** The uncensored logger, for the console backend only (not part of the plugin contract). */
export function messageLoggerOf(backend: BaseBackend): BackendLogger {
  const runtime = runtimes.get(backend);
  return runtime?.messageLogger ?? runtime?.logger ?? silentLogger;
}

/** True when the backend decides codes with the base (store-backed) validation. */
export function usesBaseValidation(backend: BaseBackend): boolean {
  return backend.validateSecurityCode === BaseBackend.prototype.validateSecurityCode;
}

/**
 * Calls `generate` with the backend's TOKEN_LENGTH set to `length` for its synchronous part (the
 * base generateSecurityCode is synchronous), so one service can have its own code length.
 */
export function withTokenLength<T>(backend: BaseBackend, length: number | undefined, generate: () => T): T {
  const runtime = runtimes.get(backend);
  if (!runtime || length === undefined || length === runtime.tokenLength) return generate();
  const configured = runtime.tokenLength;
  runtime.tokenLength = length;
  try {
    return generate();
  } finally {
    runtime.tokenLength = configured;
  }
}
