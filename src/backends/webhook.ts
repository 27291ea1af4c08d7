// The `webhook` backend: hands each message to the operator's own HTTP endpoint (an SMS gateway, a
// queue, a bridge to any provider) as a signed JSON POST, so any gateway works without a plugin.
// Signature: X-Phone-Verify-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<body>">,
// keyed by SECRET; the timestamp is inside the MAC so a receiver can refuse stale replays.
import { createHmac } from 'node:crypto';
import { ConfigError } from '../config.js';
import { type OptionSpec, optionVariable, readOptions, readTimeout } from './options.js';
import { ProviderBackend } from './provider-backend.js';
import { type SendSecrets, SmsProviderError, transportError } from './provider-error.js';

export const WEBHOOK_OPTIONS: readonly OptionSpec[] = [
  { key: 'url', required: true },
  { key: 'secret', required: true },
  { key: 'timeout', required: false },
];

export const SIGNATURE_HEADER = 'X-Phone-Verify-Signature';

/** What sendSms resolves to: the receiver's id for the message, when its answer carried one. */
export interface WebhookSendResult {
  id: string | undefined;
}

// An answer is read only this far: enough for {"id": …}, not a way to fill the service's memory.
const MAX_ANSWER_BYTES = 64 * 1024;

/** The signature header's value for a body sent at `unixSeconds`. */
export function webhookSignature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

function readUrl(raw: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${optionVariable('url')}: expected an http(s) URL for the webhook backend`);
  }
  return url;
}

export class WebhookBackend extends ProviderBackend {
  readonly #url: URL;
  readonly #secret: string;
  readonly timeoutMs: number;

  constructor(options: Record<string, unknown> = {}, name = 'webhook') {
    super(options);
    const values = readOptions(name, this.options, WEBHOOK_OPTIONS);
    this.#url = readUrl(values.url!);
    this.#secret = values.secret!;
    this.timeoutMs = readTimeout(name, values.timeout);
  }

  override async sendSms(number: string, message: string): Promise<WebhookSendResult> {
    const secrets: SendSecrets = { number, message, credentials: [this.#secret] };
    const body = JSON.stringify({ to: number, message });
    const signature = webhookSignature(this.#secret, Math.floor(Date.now() / 1000), body);
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
        // A redirect is not a sent message: following it would POST the message somewhere else.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw transportError('webhook', error, this.timeoutMs, secrets);
    }
    let answer: string;
    try {
      answer = await readAnswer(response);
    } catch (error) {
      throw transportError('webhook', error, this.timeoutMs, secrets);
    }
    if (response.status < 200 || response.status > 299) {
      throw new SmsProviderError(
        `webhook answered HTTP ${response.status}`,
        `HTTP_${response.status}`,
        response.status,
      );
    }
    return { id: messageIdIn(answer) };
  }
}

/** The answer's text, up to MAX_ANSWER_BYTES (the rest is not read). */
async function readAnswer(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_ANSWER_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  if (size >= MAX_ANSWER_BYTES) await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** `id` of a JSON object answer, as a string (a number id too); undefined for anything else. */
function messageIdIn(answer: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const id = (parsed as { id?: unknown }).id;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}
