// What identifies an idempotent start: the client's Idempotency-Key (checked here), the tenant it
// belongs to (the API key that sent it, hashed) and the request body's fingerprint. Only hashes of
// these reach the database; the key itself also keys the answer's encryption (sealed-answer.ts).
import { hash } from 'node:crypto';
import { InvalidIdempotencyKey } from '../errors.js';

/** 1–255 visible ASCII characters (0x21–0x7E): no spaces, no control or non-ASCII characters. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The scope of the requests no API key authenticated (API_KEYS unset: one open tenant). */
export const OPEN_SCOPE = 'open';

export interface IdempotentRequest {
  /** the client's Idempotency-Key, as sent */
  key: string;
  /** whose key it is: apiKeyScope() of the credential that sent it */
  scope: string;
  /** SHA-256 of scope and key: the row's primary key */
  keyHash: string;
  /** SHA-256 of the request body in canonical JSON */
  fingerprint: string;
}

/**
 * The Idempotency-Key header's value; undefined when there is none. A header sent twice arrives
 * joined by ", ", which holds a space and is refused like any other malformed key.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (!KEY_PATTERN.test(value)) throw new InvalidIdempotencyKey();
  return value;
}

/** Keys are per tenant: a hash of the API key, so two clients' equal key values never meet. */
export function apiKeyScope(apiKey: string | undefined): string {
  return apiKey === undefined ? OPEN_SCOPE : hash('sha256', `api-key\0${apiKey}`, 'hex');
}

/** JSON with object members in code-point order of their names, so member order does not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function idempotentRequest(key: string, scope: string, body: unknown): IdempotentRequest {
  return {
    key,
    scope,
    keyHash: hash('sha256', `${scope}\0${key}`, 'hex'),
    fingerprint: hash('sha256', canonicalJson(body), 'hex'),
  };
}
