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
  /** the code inside the message, when known (a short one is not a run of 4+ digits) */
  code?: string;
  /** secret values (API secrets, tokens), removed as they are and in their usual encodings */
  credentials: readonly string[];
  /** user and password of the provider's Basic auth: base64("user:password") is removed too */
  basicAuth?: readonly [user: string, password: string];
}

const MAX_MESSAGE_LENGTH = 300;

/** A credential as a provider may echo it: as is, URL-encoded, and base64 (with and without padding). */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  return [value, encodeURIComponent(value), base64, base64.replace(/=+$/, ''), bytes.toString('base64url')];
}

// Whatever follows an auth scheme is a credential, whoever's it is.
const AUTH_SCHEME = /\b(Basic|Bearer)(?:\s+|%20|\+)[A-Za-z0-9+/=._~%-]{8,}/gi;

/**
 * Removes from a provider's error text anything of this send that it may echo: providers quote the
 * destination number ("The 'To' number … is not valid"), some quote the body or its code, and some
 * the request's Authorization header (base64 of user:secret).
 */
export function redact(text: string, secrets: SendSecrets): string {
  let result = text;
  const replace = (needle: string, by: string) => {
    if (needle.length > 0) result = result.split(needle).join(by);
  };
  // Shorter values would cut ordinary words apart; no real credential is that short.
  const credentials = secrets.credentials.filter((value) => value.length >= 4).flatMap(encodings);
  if (secrets.basicAuth) credentials.push(...encodings(secrets.basicAuth.join(':')).slice(2));
  // Longest first: a secret inside its own base64 must not leave half an encoding behind.
  for (const credential of credentials.sort((a, b) => b.length - a.length)) replace(credential, '[redacted]');
  result = result.replace(AUTH_SCHEME, '$1 [redacted]');
  replace(secrets.message, '[message]');
  // The code is a run of digits inside the message; other digit runs of the template go too.
  for (const digits of new Set(secrets.message.match(/\d{4,}/g) ?? [])) replace(digits, '[redacted]');
  if (secrets.code && secrets.code.length >= 3) replace(secrets.code, '[redacted]');
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
