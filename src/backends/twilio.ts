// The `twilio` and `twilio-sandbox` backends: SMS through the twilio SDK's Messages API
// (POST /2010-04-01/Accounts/{SID}/Messages.json, Basic auth SID:SECRET, form To/From/Body).
import twilio from 'twilio';
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

export const TWILIO_OPTIONS: readonly OptionSpec[] = [
  { key: 'sid', required: true },
  { key: 'secret', required: true },
  ...COMMON_PROVIDER_OPTIONS,
];
export const TWILIO_SANDBOX_OPTIONS: readonly OptionSpec[] = withSandboxToken(TWILIO_OPTIONS);

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

/** What sendSms resolves to: the message's id and Twilio's status for it. */
export interface TwilioSendResult {
  sid: string;
  status: string;
}

// Statuses of a message Twilio took but will not deliver; a create reply can already say so.
const FAILED_STATUSES = new Set(['failed', 'undelivered', 'canceled']);

/**
 * The SDK's HTTP client with the two things the SDK cannot be told otherwise: another origin
 * (BASE_URL; the SDK has no base-URL option) and a hard deadline for the whole request (its own
 * timeout is a socket idle timeout, which a provider trickling bytes never trips). autoRetry stays
 * off: it would re-POST on 429, and a Messages create is not idempotent.
 */
class TwilioHttpClient extends twilio.RequestClient {
  readonly #baseUrl: URL | undefined;

  constructor(baseUrl: URL | undefined, timeoutMs: number) {
    super({ timeout: timeoutMs, autoRetry: false });
    this.#baseUrl = baseUrl;
    this.axios.interceptors.request.use((config) => {
      config.signal = AbortSignal.timeout(timeoutMs);
      return config;
    });
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    return super.request<TData>({ ...opts, uri: this.#route(opts.uri) });
  }

  #route(uri: string): string {
    if (!this.#baseUrl) return uri;
    const target = new URL(uri);
    const routed = new URL(this.#baseUrl);
    routed.pathname = `${routed.pathname.replace(/\/+$/, '')}${target.pathname}`;
    routed.search = target.search;
    return routed.href;
  }
}

export class TwilioBackend extends ProviderBackend {
  readonly #client: twilio.Twilio;
  #statusCallback: string | undefined;
  readonly #from: string;
  readonly #secret: string;
  readonly #sid: string;
  readonly timeoutMs: number;

  constructor(options: Record<string, unknown> = {}, name = 'twilio', specs = TWILIO_OPTIONS) {
    super(options);
    const values = readOptions(name, this.options, specs);
    if (!values.sid!.startsWith('AC')) {
      throw new ConfigError(
        `${optionVariable('sid')}: expected a Twilio account SID (AC…) for the ${name} backend`,
      );
    }
    this.#from = values.from!;
    this.#secret = values.secret!;
    this.#sid = values.sid!;
    this.timeoutMs = readTimeout(name, values.timeout);
    const httpClient = new TwilioHttpClient(readBaseUrl(name, values.base_url), this.timeoutMs);
    this.#client = twilio(values.sid, values.secret, { httpClient, autoRetry: false });
  }

  /** Asks Twilio for status callbacks at `url` (PUBLIC_URL's /v1/callbacks/twilio) on every send. */
  requestStatusCallbacks(url: string): void {
    this.#statusCallback = url;
  }

  /**
   * Whether a status callback carries this account's X-Twilio-Signature, checked by the twilio
   * package's own validateRequest with SECRET (the auth token): `url` is the URL Twilio called,
   * `params` the POSTed form fields.
   */
  signedStatusCallback(signature: string, url: string, params: Record<string, string>): boolean {
    return twilio.validateRequest(this.#secret, signature, url, params);
  }

  override async sendSms(number: string, message: string): Promise<TwilioSendResult> {
    const secrets: SendSecrets = {
      number,
      message,
      credentials: [this.#secret],
      basicAuth: [this.#sid, this.#secret],
    };
    let sent: Awaited<ReturnType<twilio.Twilio['messages']['create']>>;
    try {
      sent = await withDeadline(
        this.#client.messages.create({
          to: number,
          from: this.#from,
          body: message,
          ...(this.#statusCallback ? { statusCallback: this.#statusCallback } : {}),
        }),
        this.timeoutMs,
        () => transportError('twilio', { code: 'ETIMEDOUT' }, this.timeoutMs, secrets),
      );
    } catch (error) {
      throw twilioError(error, this.timeoutMs, secrets);
    }
    if (!sent?.sid) throw new SmsProviderError('twilio answered without a message sid', 'EPROVIDER');
    if (FAILED_STATUSES.has(sent.status)) {
      const text = sent.errorMessage ? redact(sent.errorMessage, secrets) : `message ${sent.status}`;
      throw new SmsProviderError(text, sent.errorCode ?? sent.status, 201);
    }
    return { sid: sent.sid, status: sent.status };
  }
}

/** A Twilio REST error reply keeps its code and message; anything else is a transport failure. */
function twilioError(error: unknown, timeoutMs: number, secrets: SendSecrets): SmsProviderError {
  if (error instanceof SmsProviderError) return error;
  if (error instanceof twilio.RestException) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    const text =
      typeof error.message === 'string' && error.message !== ''
        ? redact(error.message, secrets)
        : `twilio answered HTTP ${status}`;
    return new SmsProviderError(text, error.code ?? (status ? `HTTP_${status}` : undefined), status);
  }
  return transportError('twilio', error, timeoutMs, secrets);
}

export class TwilioSandboxBackend extends TwilioBackend {
  readonly #sandbox: SandboxCode;

  constructor(options: Record<string, unknown> = {}, name = 'twilio-sandbox') {
    super(options, name, TWILIO_SANDBOX_OPTIONS);
    this.#sandbox = new SandboxCode(String(this.options.sandbox_token).trim());
  }

  override generateSecurityCode(): string {
    return this.#sandbox.generate();
  }

  override async validateSecurityCode(securityCode: string): Promise<SecurityCodeStatus> {
    return this.#sandbox.validate(securityCode);
  }
}
