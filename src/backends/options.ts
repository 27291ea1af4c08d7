// The options of the provider backends declared as data: the declaration drives start-up validation
// (one ConfigError line naming every missing PHONE_VERIFICATION_OPTIONS_<KEY> and the backend) and
// keeps the option tables of docs/backends.md honest. Values are never echoed: most of them are credentials.
import { ConfigError } from '../config.js';

/** One option a backend reads from PHONE_VERIFICATION_OPTIONS*. */
export interface OptionSpec {
  /** the key, lower-cased as backends receive it (sid, secret, …) */
  key: string;
  required: boolean;
}

/** The variable an operator sets for an option key. */
export function optionVariable(key: string): string {
  return `PHONE_VERIFICATION_OPTIONS_${key.toUpperCase()}`;
}

/** How long a provider call may take when TIMEOUT is not set (milliseconds). */
export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 120_000;

function present(value: unknown): boolean {
  return value !== undefined && value !== null && String(value).trim() !== '';
}

/**
 * Checks that every required option is there and returns them all as trimmed strings (absent
 * optional ones are left out). Throws one ConfigError naming every missing variable.
 */
export function readOptions(
  backend: string,
  options: Record<string, unknown>,
  specs: readonly OptionSpec[],
): Record<string, string> {
  const missing = specs.filter((spec) => spec.required && !present(options[spec.key]));
  if (missing.length > 0) {
    const variables = missing.map((spec) => optionVariable(spec.key)).join(', ');
    throw new ConfigError(`${variables}: required by the ${backend} backend`);
  }
  const values: Record<string, string> = {};
  for (const spec of specs) {
    if (present(options[spec.key])) values[spec.key] = String(options[spec.key]).trim();
  }
  return values;
}

/** BASE_URL as an origin (plus an optional path prefix), or undefined for the provider's own. */
export function readBaseUrl(backend: string, raw: string | undefined): URL | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      `${optionVariable('base_url')}: expected an http(s) URL for the ${backend} backend`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `${optionVariable('base_url')}: expected an http(s) URL for the ${backend} backend`,
    );
  }
  if (url.username || url.password) {
    // Credentials belong in SID/KEY and SECRET, where they are treated as secrets.
    throw new ConfigError(`${optionVariable('base_url')}: must not carry credentials (${backend} backend)`);
  }
  return url;
}

/** TIMEOUT in milliseconds (a whole number from 1 to 120000), DEFAULT_TIMEOUT_MS when absent. */
export function readTimeout(backend: string, raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_TIMEOUT_MS)) {
    throw new ConfigError(
      `${optionVariable('timeout')}: expected milliseconds from 1 to ${MAX_TIMEOUT_MS} for the ${backend} backend (got ${JSON.stringify(raw)})`,
    );
  }
  return value;
}

/** The options every provider backend shares beside its credentials. */
export const COMMON_PROVIDER_OPTIONS: readonly OptionSpec[] = [
  { key: 'from', required: true },
  { key: 'base_url', required: false },
  { key: 'timeout', required: false },
];

/** Adds SANDBOX_TOKEN (required) to a provider's options, for its sandbox. */
export function withSandboxToken(specs: readonly OptionSpec[]): OptionSpec[] {
  return [...specs, { key: 'sandbox_token', required: true }];
}
