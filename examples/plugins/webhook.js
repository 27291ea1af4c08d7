// Example plugin: hands each message to your own HTTP endpoint instead of an SMS provider. It POSTs
// {"phone_number": "+14155550100", "message": "…"} as JSON to the URL option and signs the exact
// body: header X-Phone-Verify-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by SECRET>.
//
//   cp examples/plugins/webhook.js ./plugins/
//   PHONE_VERIFICATION_BACKEND=webhook.WebhookBackend
//   PHONE_VERIFICATION_OPTIONS='{"URL": "https://sms-gateway.internal/send", "SECRET": "…"}'
//   optional: "TIMEOUT_MS" (default 10000)
//
// The receiver recomputes the HMAC over the raw body it got and compares it in constant time.
import { createHmac } from 'node:crypto';
import { BaseBackend } from 'phone-verify';

export const SIGNATURE_HEADER = 'x-phone-verify-signature';

export class WebhookBackend extends BaseBackend {
  constructor(options) {
    super(options);
    const { url, secret, timeout_ms: timeoutMs } = this.options;
    if (!url || !secret) throw new Error('options URL and SECRET are required');
    const parsed = new URL(String(url));
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw new Error('option URL must be http(s)');
    this.url = parsed.href;
    this.secret = String(secret);
    this.timeoutMs = Number(timeoutMs ?? 10_000);
  }

  async sendSms(number, message) {
    const body = JSON.stringify({ phone_number: number, message });
    const signature = createHmac('sha256', this.secret).update(body).digest('hex');
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: `sha256=${signature}` },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    // Anything but 2xx is a failed send (502 backend_error for the client).
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    await response.body?.cancel();
  }
}
