// The `vonage` and `vonage-sandbox` backends (aliases `nexmo`, `nexmo-sandbox`): SMS through
// @vonage/server-sdk's SMS API (POST {restHost}/sms/json, Basic auth KEY:SECRET, JSON to/from/text).
import { Vonage } from '@vonage/server-sdk';
import { ConfigError } from '../config.js';
import type { SecurityCodeStatus } from './base.js';
import {
  COMMON_PROVIDER_OPTIONS,
  type OptionSpec,
  optionVariable,
  readBaseUrl,
  readOptions,
  readTimeout,
  withSandboxToken,
} from './options.js';
import { ProviderBackend } from './provider-backend.js';
import {
  redact,
  type SendSecrets,
  SmsProviderError,
  transportError,
  withDeadline,
} from './provider-error.js';
import { SandboxCode } from './sandbox.js';

export const VONAGE_OPTIONS: readonly OptionSpec[] = [
  { key: 'key', required: true },
  { key: 'secret', required: true },
  ...COMMON_PROVIDER_OPTIONS,
  // Signed webhooks (the account's signature secret and method): delivery receipts are accepted
  // only when they carry a valid `sig`.
  { key: 'signature_secret', required: false },
  { key: 'signature_method', required: false },
];

type SignatureAlgorithm = Parameters<Vonage['sms']['verifySignature']>[3];

/** SIGNATURE_METHOD as the dashboard names them, to the SDK's algorithm (its AlgorithmTypes). */
const SIGNATURE_METHODS: Record<string, string> = {
  md5hash: 'MD5HASH',
  md5hmac: 'MD5HMAC',
  md5: 'MD5HMAC',
  sha1hmac: 'SHA1HMAC',
  sha1: 'SHA1HMAC',
  sha256hmac: 'SHA256HMAC',
  sha256: 'SHA256HMAC',
  sha512hmac: 'SHA512HMAC',
  sha512: 'SHA512HMAC',
};
export const VONAGE_SANDBOX_OPTIONS: readonly OptionSpec[] = withSandboxToken(VONAGE_OPTIONS);

type SmsParams = Parameters<Vonage['sms']['send']>[0];

/** What sendSms resolves to: Vonage's id for the message. */
export interface VonageSendResult {
  messageId: string | undefined;
}

/** One entry of the SMS API's messages[] after the SDK camel-cased it. */
interface VonageMessageReply {
  status?: string;
  errorText?: string;
  messageId?: string;
}

// A provider error body is read only this far: enough for a code and a title.
const MAX_ERROR_BODY = 4096;

export class VonageBackend extends ProviderBackend {
  readonly #client: Vonage;
  readonly #from: string;
  readonly #secret: string;
  readonly #key: string;
  readonly #signature: { secret: string; algorithm: SignatureAlgorithm } | undefined;
  #receiptUrl: string | undefined;
  readonly timeoutMs: number;

  constructor(options: Record<string, unknown> = {}, name = 'vonage', specs = VONAGE_OPTIONS) {
    super(options);
    const values = readOptions(name, this.options, specs);
    this.#from = values.from!;
    this.#secret = values.secret!;
    this.#key = values.key!;
    this.timeoutMs = readTimeout(name, values.timeout);
    this.#signature = readSignature(name, values.signature_secret, values.signature_method);
    const baseUrl = readBaseUrl(name, values.base_url);
    // The SDK's fetch (node-fetch 2) never retries; its timeout aborts the request and the body read.
    this.#client = new Vonage(
      { apiKey: values.key!, apiSecret: values.secret! },
      {
        ...(baseUrl ? { restHost: baseUrl.href.replace(/\/+$/, '') } : {}),
        timeout: this.timeoutMs,
      },
    );
  }

  /** Asks Vonage for delivery receipts at `url` (PUBLIC_URL's /v1/callbacks/vonage) on every send. */
  requestDeliveryReceipts(url: string): void {
    this.#receiptUrl = url;
  }

  /**
   * Whether a delivery receipt carries a valid `sig` for this account's signature secret, checked
   * by the SDK's own verifySignature. Without SIGNATURE_SECRET nothing can be checked: false.
   */
  signedDeliveryReceipt(params: Record<string, string>): boolean {
    const { sig } = params;
    if (!this.#signature || typeof sig !== 'string' || sig === '') return false;
    try {
      return this.#client.sms.verifySignature(sig, params, this.#signature.secret, this.#signature.algorithm);
    } catch {
      return false;
    }
  }

  override async sendSms(number: string, message: string): Promise<VonageSendResult> {
    const secrets: SendSecrets = {
      number,
      message,
      credentials: [this.#secret],
      basicAuth: [this.#key, this.#secret],
    };
    const params = {
      // The SMS API wants international numbers without the leading "+".
      to: number.replace(/^\+/, ''),
      from: this.#from,
      text: message,
      ...(this.#receiptUrl ? { callback: this.#receiptUrl } : {}),
      // Outside plain ASCII (translated templates), "text" would garble the message.
      ...(/^[\x20-\x7e\n\r]*$/.test(message) ? {} : { type: 'unicode' }),
    } as SmsParams;
    try {
      const reply = await withDeadline(this.#client.sms.send(params), this.timeoutMs, () =>
        transportError('vonage', { code: 'ETIMEDOUT' }, this.timeoutMs, secrets),
      );
      const first = (reply.messages?.[0] ?? {}) as VonageMessageReply;
      return { messageId: first.messageId };
    } catch (error) {
      throw await vonageError(error, this.timeoutMs, secrets);
    }
  }
}

function readSignature(
  backend: string,
  secret: string | undefined,
  method: string | undefined,
): { secret: string; algorithm: SignatureAlgorithm } | undefined {
  const algorithm = SIGNATURE_METHODS[(method ?? 'md5hash').toLowerCase().replace(/[\s_-]/g, '')];
  if (!algorithm) {
    throw new ConfigError(
      `${optionVariable('signature_method')}: expected one of md5hash, md5hmac, sha1hmac, sha256hmac, sha512hmac for the ${backend} backend (got ${JSON.stringify(method)})`,
    );
  }
  if (secret === undefined) {
    if (method !== undefined) {
      throw new ConfigError(
        `${optionVariable('signature_secret')}: required by SIGNATURE_METHOD (${backend} backend)`,
      );
    }
    return undefined;
  }
  return { secret, algorithm: algorithm as SignatureAlgorithm };
}

/**
 * The three ways the SDK fails: a 200 reply whose messages[] carry a non-"0" status (it throws
 * MessageSendAllFailure/PartialFailure, a subclass of Error with getFailedMessages), a non-2xx reply
 * (VetchError with the unread fetch response), or no reply at all.
 */
async function vonageError(
  error: unknown,
  timeoutMs: number,
  secrets: SendSecrets,
): Promise<SmsProviderError> {
  if (error instanceof SmsProviderError) return error;
  const failure = error as {
    getFailedMessages?: () => VonageMessageReply[];
    response?: { status?: unknown; text?: () => Promise<string> };
  };
  if (typeof failure.getFailedMessages === 'function') {
    const failed = failure.getFailedMessages()[0] ?? {};
    const text = failed.errorText ? redact(failed.errorText, secrets) : 'vonage refused the message';
    return new SmsProviderError(text, failed.status ?? 'EPROVIDER', 200);
  }
  const response = failure.response;
  if (response && typeof response.status === 'number' && typeof response.text === 'function') {
    return httpError(response.status, response.text.bind(response), timeoutMs, secrets);
  }
  return transportError('vonage', error, timeoutMs, secrets);
}

/** A non-2xx reply: Vonage puts "error-code"/"error-code-label" or type/title/detail in its body. */
async function httpError(
  status: number,
  readBody: () => Promise<string>,
  timeoutMs: number,
  secrets: SendSecrets,
): Promise<SmsProviderError> {
  let body: Record<string, unknown> = {};
  try {
    const text = await withDeadline(readBody(), timeoutMs, () => new Error('body read timed out'));
    const parsed: unknown = JSON.parse(text.slice(0, MAX_ERROR_BODY));
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page, say): the status is all there is.
  }
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = body[key];
      if (typeof value === 'string' || typeof value === 'number') return String(value);
    }
    return undefined;
  };
  const code = pick('error-code', 'error_code', 'code', 'status') ?? `HTTP_${status}`;
  const label = pick('error-code-label', 'error-text', 'title', 'detail', 'message');
  return new SmsProviderError(
    label ? redact(label, secrets) : `vonage answered HTTP ${status}`,
    code,
    status,
  );
}

export class VonageSandboxBackend extends VonageBackend {
  readonly #sandbox: SandboxCode;

  constructor(options: Record<string, unknown> = {}, name = 'vonage-sandbox') {
    super(options, name, VONAGE_SANDBOX_OPTIONS);
    this.#sandbox = new SandboxCode(String(this.options.sandbox_token).trim());
  }

  override generateSecurityCode(): string {
    return this.#sandbox.generate();
  }

  override async validateSecurityCode(securityCode: string): Promise<SecurityCodeStatus> {
    return this.#sandbox.validate(securityCode);
  }
}
