// The one error the provider backends throw from sendSms. The service logs only its type, message,
// code and status, so it is built from scratch: an SDK error is never passed on, because SDK errors
// carry the outgoing request (Authorization header, form body with the code) in their fields.
import { maskPhoneNumber } from '../verification/phone.js';

export class SmsProviderError extends Error {
  override name = 'SmsProviderError';
  /** the provider's error code (Twilio 21211, Vonage status "29"), or a transport code (ETIMEDOUT) */
  readonly code: string | undefined;
  /** the HTTP status of the provider's reply, when there was one */
  readonly status: number | undefined;

  constructor(message: string, code?: string | number, status?: number) {
    super(message);
    this.code = code === undefined || code === null ? undefined : String(code);
    this.status = status;
  }
}

/** What must never reach an error message: the message text, its code, the number, credentials. */
export interface SendSecrets {
  number: string;
  message: string;
  credentials: readonly string[];
}

const MAX_MESSAGE_LENGTH = 300;

/**
 * Removes from a provider's error text anything of this send that it may echo: providers quote the
 * destination number ("The 'To' number … is not valid") and some quote the body or its code.
 */
export function redact(text: string, secrets: SendSecrets): string {
  let result = text;
  const replace = (needle: string, by: string) => {
    if (needle.length > 0) result = result.split(needle).join(by);
  };
  for (const credential of secrets.credentials) replace(credential, '[redacted]');
  replace(secrets.message, '[message]');
  // The code is a run of digits inside the message; other digit runs of the template go too.
  for (const digits of new Set(secrets.message.match(/\d{4,}/g) ?? [])) replace(digits, '[redacted]');
  replace(secrets.number, maskPhoneNumber(secrets.number));
  replace(secrets.number.replace(/^\+/, ''), maskPhoneNumber(secrets.number).replace(/^\+/, ''));
  return result.length > MAX_MESSAGE_LENGTH ? `${result.slice(0, MAX_MESSAGE_LENGTH)}…` : result;
}

// Node and fetch/axios codes for "no answer in time" and "no connection".
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_CANCELED',
  'ESOCKETTIMEDOUT',
  'UND_ERR_ABORTED',
]);

/**
 * A transport failure (no HTTP reply) as an SmsProviderError: ETIMEDOUT when the provider did not
 * answer within the timeout, else the system code (ECONNREFUSED, ENOTFOUND, ECONNRESET, …).
 */
export function transportError(
  provider: string,
  error: unknown,
  timeoutMs: number,
  secrets: SendSecrets,
): SmsProviderError {
  const { code, name, cause } = (error ?? {}) as { code?: unknown; name?: unknown; cause?: unknown };
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  const systemCode = typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : undefined;
  if (name === 'AbortError' || name === 'TimeoutError' || (systemCode && TIMEOUT_CODES.has(systemCode))) {
    return new SmsProviderError(`${provider} did not answer within ${timeoutMs} ms`, 'ETIMEDOUT');
  }
  if (systemCode && /^E[A-Z_]+$/.test(systemCode)) {
    return new SmsProviderError(`${provider} could not be reached (${systemCode})`, systemCode);
  }
  const detail = error instanceof Error ? `: ${redact(error.message, secrets)}` : '';
  return new SmsProviderError(`${provider} request failed${detail}`, systemCode ?? 'EPROVIDER');
}

/** Rejects with a timeout if the promise has not settled within ms (a last guard around SDK calls). */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
