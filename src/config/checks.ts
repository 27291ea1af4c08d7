// The value checks particular to one setting (a backend name, a database URL, a proxy list…),
// each throwing InvalidValue with the problem the refusal line states.
import { isIP } from 'node:net';
import { getCountries } from 'libphonenumber-js';
import { InvalidValue } from './errors.js';
import { splitList } from './kinds.js';

export const DATABASE_KINDS = ['sqlite', 'postgresql'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export function databaseKindOf(url: string): DatabaseKind | undefined {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  return undefined;
}

/** The URL may hold a password: never echoed. */
export function checkDatabaseUrl(url: string): void {
  if (!databaseKindOf(url))
    throw new InvalidValue('expected file:PATH (SQLite) or postgresql://… (PostgreSQL)');
}

/** A built-in backend's name or a plugin's module.ClassName (no path: the plugin loader resolves it). */
const BACKEND_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z_$][\w$]*)?$/;

export function checkBackendName(name: string): void {
  if (!BACKEND_NAME.test(name)) {
    throw new InvalidValue('expected a built-in backend name or "module.ClassName"', name);
  }
}

/** The URL may hold a password: never echoed. */
export function parseRedisUrl(raw: string): string {
  const url = raw.trim();
  if (!/^rediss?:\/\//.test(url)) throw new InvalidValue('expected redis://… or rediss://…');
  return url;
}

/** An address, a CIDR, or one of proxy-addr's names for the private ranges. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** Fastify's trustProxy: false, true, a hop count, or addresses/CIDRs. */
export function parseTrustProxy(raw: string): boolean | number | string[] {
  const value = raw.trim();
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  if (!entries.every(isProxyEntry)) {
    throw new InvalidValue(
      'expected true, false, a hop count, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)',
      value,
    );
  }
  return entries;
}

const COUNTRY_CODES = new Set<string>(getCountries());

export function countryCode(entry: string): string {
  const code = entry.toUpperCase();
  if (!COUNTRY_CODES.has(code)) {
    throw new InvalidValue(
      'expected comma-separated ISO 3166-1 alpha-2 country codes such as US,CA,GB',
      code,
    );
  }
  return code;
}

/** The libphonenumber-js number types a destination policy may refuse. */
export const NUMBER_TYPES = [
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'FIXED_LINE',
] as const;

export function numberType(entry: string): string {
  const type = entry.toUpperCase();
  if (!(NUMBER_TYPES as readonly string[]).includes(type)) {
    throw new InvalidValue(`expected none or comma-separated types among ${NUMBER_TYPES.join(', ')}`, type);
  }
  return type;
}

export function e164Prefix(entry: string): string {
  if (!/^\+\d{1,15}$/.test(entry)) {
    throw new InvalidValue('expected comma-separated E.164 numbers or prefixes such as +1415555', entry);
  }
  return entry;
}

/** "+15555550100=123456,…": each test number and its fixed code. */
export function parseTestNumbers(raw: string): Record<string, string> {
  const numbers: Record<string, string> = {};
  for (const entry of splitList(raw)) {
    const match = /^(\+[1-9]\d{1,14})\s*=\s*(\d{4,10})$/.exec(entry);
    if (!match) {
      throw new InvalidValue('expected comma-separated +E164=CODE pairs with 4 to 10 digit codes', entry);
    }
    numbers[match[1]!] = match[2]!;
  }
  return numbers;
}

/** An http(s) origin, a path allowed; kept without its trailing "/". */
export function parsePublicUrl(raw: string): string {
  const value = raw.trim();
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
    throw new InvalidValue(
      'expected an http(s) origin such as https://verify.example.com (a path allowed)',
      value,
    );
  }
  return value.replace(/\/+$/, '');
}

export function parseServerSecret(raw: string): string {
  if (raw.length < 32) throw new InvalidValue('expected at least 32 characters', raw);
  return raw;
}
