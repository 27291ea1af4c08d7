// The code rule of the built-in sandboxes (docs/backends.md, "Sandboxes"): the code is always SANDBOX_TOKEN,
// and a check with it is VALID however often and however late; any other code is INVALID (the
// service still counts it toward the attempt lock). The provider backends delegate to this.

import { secretEquals } from '../verification/secrets.js';
import { BaseBackend, type SecurityCodeStatus } from './base.js';

export class SandboxCode {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  /** The code every sandbox session gets. */
  generate(): string {
    return this.#token;
  }

  /** VALID for the token (compared in constant time), INVALID for anything else. */
  validate(securityCode: unknown): SecurityCodeStatus {
    return secretEquals(String(securityCode), this.#token)
      ? BaseBackend.SECURITY_CODE_VALID
      : BaseBackend.SECURITY_CODE_INVALID;
  }
}
