// The one error a bad setting raises, and the rule for which values are never echoed in it.

/** A bad setting; its message is the one line the process prints before exiting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * What a parse function throws: the problem, and the value to show (omitted when the value may
 * hold a secret, a password in a URL say). The loader turns it into a ConfigError naming the variable.
 */
export class InvalidValue extends Error {
  constructor(
    readonly problem: string,
    readonly shown?: string,
  ) {
    super(problem);
  }
}

const SECRET_NAME = /secret|token|key|password/i;

/** True for option names whose values must never be printed (SECRET, SANDBOX_TOKEN, API_KEY…). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The one line for a bad `variable`; `secret` variables never show their value. */
export function refusal(variable: string, invalid: InvalidValue, secret = false): ConfigError {
  const shown = invalid.shown === undefined || secret ? '' : ` (got ${JSON.stringify(invalid.shown)})`;
  return new ConfigError(`${variable}: ${invalid.problem}${shown}`);
}
