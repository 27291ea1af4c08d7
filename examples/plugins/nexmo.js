// Example plugin: django-phone-verify's "write your own backend" Nexmo tutorial, ported to
// phone-verify and to the current Vonage SDK (@vonage/server-sdk 3, SMS API).
//
//   cp examples/plugins/nexmo.js ./plugins/
//   PHONE_VERIFICATION_BACKEND=nexmo.NexmoBackend          (or nexmo.NexmoSandboxBackend)
//   PHONE_VERIFICATION_OPTIONS='{"KEY": "…", "SECRET": "…", "FROM": "+15005550006", "SANDBOX_TOKEN": "123456"}'
//
// @vonage/server-sdk is one of the service's own dependencies, so it resolves with nothing installed
// in the plugins folder; a copy in PLUGINS_DIR/node_modules would win.
import { Vonage } from '@vonage/server-sdk';
import { BaseBackend } from 'phone-verify';

export class NexmoBackend extends BaseBackend {
  constructor(options) {
    super(options);
    // this.options has the keys lower-cased, as the seed's backends receive them.
    const { key, secret, from, base_url: baseUrl } = this.options;
    if (!key || !secret || !from) throw new Error('options KEY, SECRET and FROM are required');
    this.from = from;
    // BASE_URL points the SDK at another origin (a proxy, or a local fake in tests).
    this.client = new Vonage({ apiKey: key, apiSecret: secret }, baseUrl ? { restHost: baseUrl } : {});
  }

  async sendSms(number, message) {
    // Vonage wants the number without "+"; the SDK throws when Vonage reports a non-zero status,
    // which the service turns into 502 backend_error.
    const response = await this.client.sms.send({
      to: number.replace(/^\+/, ''),
      from: this.from,
      text: message,
    });
    return response.messages?.[0]?.messageId;
  }

  // The seed sent bulk messages one by one; the base class already does that, a few at a time, and
  // reports each number's outcome, so there is no need to override sendBulkSms here.
}

export class NexmoSandboxBackend extends NexmoBackend {
  constructor(options) {
    super(options);
    if (!this.options.sandbox_token) throw new Error('option SANDBOX_TOKEN is required');
    this.token = String(this.options.sandbox_token);
  }

  /** A fixed code, for predictable tests. */
  generateSecurityCode() {
    return this.token;
  }

  /** The seed's sandbox recipe: every code is valid. */
  validateSecurityCode(_securityCode, _phoneNumber, _sessionToken) {
    return this.SECURITY_CODE_VALID;
  }
}
