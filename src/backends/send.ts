// One send through one backend, as an outcome: the backend's sendSms within a deadline, whatever it
// returns, throws or never does. Nothing a backend does here can reach the caller as an exception,
// and a failure is described only by fields safe to log (redacted with the send's secrets). A
// delivery strategy (a fallback backend, say) composes these outcomes.
import { isSecretName } from '../config.js';
import type { BaseBackend } from './base.js';
import { ProviderBackend } from './provider-backend.js';
import { redact, type SendSecrets, SmsProviderError } from './provider-error.js';

/** A backend as the send step uses it: its configured name, its deadline, its secrets. */
export interface SendChannel {
  /** the name it was configured by (PHONE_VERIFICATION_BACKEND), for logs and metrics */
  name: string;
  backend: BaseBackend;
  /** milliseconds one send may take */
  deadlineMs: number;
  /** option values that must not reach a log line (SECRET, TOKEN, …) */
  credentials: readonly string[];
}

/** One message to one number; `code` is the security code inside `message`. */
export interface Sms {
  number: string;
  message: string;
  code: string;
}

/** What of a failed send may be logged: type, redacted message, the provider's code and status. */
export interface SendFailure {
  type: string;
  message: string;
  code?: string;
  status?: number;
}

export type SendOutcome =
  | { ok: true; backend: string; seconds: number; result: unknown }
  | { ok: false; backend: string; seconds: number; timedOut: boolean; failure: SendFailure };

/** SEND_TIMEOUT's default. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** How much later than their own TIMEOUT the provider backends are cut: their own error wins. */
const PROVIDER_GRACE_MS = 1_000;

/** The send channel of a configured backend: its own TIMEOUT for a provider, else `defaultMs`. */
export function sendChannel(name: string, backend: BaseBackend, defaultMs: number): SendChannel {
  const deadlineMs =
    backend instanceof ProviderBackend ? backend.timeoutMs + PROVIDER_GRACE_MS : Math.max(1, defaultMs);
  const credentials = Object.entries(backend.options ?? {})
    .filter(([key, value]) => isSecretName(key) && typeof value === 'string')
    .map(([, value]) => value as string);
  return { name, backend, deadlineMs, credentials };
}

const elapsedSeconds = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

function failed(
  channel: SendChannel,
  sms: Sms,
  started: bigint,
  error: unknown,
  timedOut: boolean,
): SendOutcome {
  const failure = timedOut
    ? timeoutFailure(channel)
    : (safely(() => describeFailure(error, { ...sms, credentials: channel.credentials })) ?? {
        type: 'Unknown',
        message: 'a failure that could not be described',
      });
  return { ok: false, backend: channel.name, seconds: elapsedSeconds(started), timedOut, failure };
}

/** Sends through the channel; resolves (never rejects) once the backend answered or the deadline passed. */
export function sendWithDeadline(channel: SendChannel, sms: Sms): Promise<SendOutcome> {
  const started = process.hrtime.bigint();
  let sending: Promise<unknown>;
  try {
    // Promise.resolve also turns a thenable whose `then` throws into a rejection.
    sending = Promise.resolve(channel.backend.sendSms(sms.number, sms.message));
  } catch (error) {
    return Promise.resolve(failed(channel, sms, started, error, false));
  }
  return new Promise<SendOutcome>((resolve) => {
    // Whichever comes first settles the outcome; the later one's resolve() does nothing. A late
    // rejection is handled here too, never left unhandled.
    const timer = setTimeout(
      () => resolve(failed(channel, sms, started, undefined, true)),
      channel.deadlineMs,
    );
    sending.then(
      (result) => {
        clearTimeout(timer);
        resolve({ ok: true, backend: channel.name, seconds: elapsedSeconds(started), result });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve(failed(channel, sms, started, error, false));
      },
    );
  });
}

function timeoutFailure(channel: SendChannel): SendFailure {
  return {
    type: 'SendTimeout',
    message: `${channel.name} did not answer within ${channel.deadlineMs} ms`,
    code: 'ETIMEDOUT',
  };
}

/** `read()`, or undefined when reading throws (a getter, a Proxy trap, a toString). */
function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** A string, number or bigint field as a string; anything else is left out. */
function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** The first refused message of a @vonage/server-sdk SMS failure: its status and error text. */
function vonageRefusal(error: object): { status?: string; errorText?: string } | undefined {
  const messages = safely(() => (error as { response?: { messages?: unknown } }).response?.messages);
  if (!Array.isArray(messages)) return undefined;
  const refused = messages.find(
    (entry) => typeof entry === 'object' && entry !== null && safely(() => entry.status) !== '0',
  ) as Record<string, unknown> | undefined;
  if (!refused) return undefined;
  return {
    status: safely(() => scalar(refused.status)),
    errorText: safely(() => scalar(refused.errorText ?? refused['error-text'])),
  };
}

/**
 * The loggable fields of whatever a backend threw: an Error, a provider SDK's error, a string, a
 * symbol, an object without prototype or with a throwing getter. Never throws.
 */
export function describeFailure(error: unknown, secrets: SendSecrets): SendFailure {
  if (safely(() => error instanceof SmsProviderError)) {
    // Built from scratch by a provider backend, already redacted.
    const { name, message, code, status } = error as SmsProviderError;
    return { type: name, message, code, status };
  }
  const clean = (text: string) => redact(text, secrets);
  if (typeof error === 'function') return { type: 'function', message: 'a function was thrown' };
  if (typeof error !== 'object' || error === null) {
    if (typeof error === 'string') return { type: 'string', message: clean(error) };
    const text = typeof error === 'symbol' ? safely(() => error.toString()) : safely(() => String(error));
    return { type: typeof error, message: clean(text ?? 'an unprintable value') };
  }
  const isError = safely(() => error instanceof Error) === true;
  const name = safely(() => scalar((error as { name?: unknown }).name));
  const constructorName = safely(() =>
    scalar((error as { constructor?: { name?: unknown } }).constructor?.name),
  );
  // The name is the backend's text too: redacted, and kept short.
  const type = clean(
    (name && name !== 'Error' ? name : constructorName || name) || (isError ? 'Error' : 'Object'),
  ).slice(0, 100);
  const field = (key: string) => safely(() => (error as Record<string, unknown>)[key]);
  const statusValue = field('status') ?? field('statusCode');
  const status = typeof statusValue === 'number' ? statusValue : undefined;
  const refusal = vonageRefusal(error);
  const message =
    refusal?.errorText ?? safely(() => scalar(field('message'))) ?? `a thrown ${type} without a message`;
  const code = refusal?.status ?? safely(() => scalar(field('code')));
  return {
    type,
    message: clean(message),
    ...(code === undefined ? {} : { code: clean(code) }),
    ...(status === undefined ? {} : { status }),
  };
}
