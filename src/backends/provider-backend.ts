// What the built-in provider backends (Twilio, Vonage) share beyond BaseBackend: each bounds its own
// sends with its TIMEOUT option, so the service's send step gives them that deadline rather than
// SEND_TIMEOUT, the one it gives every other backend.
import { BaseBackend } from './base.js';

export abstract class ProviderBackend extends BaseBackend {
  /** TIMEOUT: milliseconds one send may take, provider call and reply included */
  abstract readonly timeoutMs: number;
}
