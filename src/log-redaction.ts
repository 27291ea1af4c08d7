// Redaction of log lines, as a pino `formatters.log` hook: secret fields never show their value,
// phone numbers are masked (LOG_PHONE_NUMBERS=masked), at the top level of a line or one level
// down (`{ options: { secret } }`, `{ err: { token } }`), and the request's credential headers
// (`req.headers.authorization`, `cookie`, `x-api-key`). Written for these fields rather than
// pino's own `redact`, whose wildcard paths cost more per line than a whole verify's database
// work. The object logged is never changed: what needs censoring is copied first.

export interface RedactionRules {
  /** fields whose value is replaced by "[redacted]" */
  secretFields: readonly string[];
  /** fields whose string value is masked by `maskPhone` (others are redacted) */
  phoneFields: readonly string[];
  /** null: phone numbers are logged as they are */
  maskPhone: ((e164: string) => string) | null;
}

const REDACTED = '[redacted]';
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-api-key'];

type Entry = Record<string, unknown>;

function isObject(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A shallow copy that keeps the prototype and own non-enumerable fields (an Error's message). */
function copyOf<T extends object>(value: T): T {
  const copy = Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value));
  // Node.js 22 keeps an error's stack behind an accessor that reads the error it was made for: on
  // a copy it reads nothing, and the log line would lose the stack.
  if (value instanceof Error) {
    Object.defineProperty(copy, 'stack', { value: value.stack, writable: true, configurable: true });
  }
  return copy;
}

export function createRedactor(rules: RedactionRules): (entry: Entry) => Entry {
  const secret = new Set(rules.secretFields);
  const phone = new Set(rules.maskPhone ? rules.phoneFields : []);
  const { maskPhone } = rules;

  /** The censored value of field `key`, or `value` itself when the field is not censored. */
  const censor = (key: string, value: unknown): unknown => {
    if (secret.has(key)) return REDACTED;
    if (phone.has(key)) return typeof value === 'string' && maskPhone ? maskPhone(value) : REDACTED;
    return value;
  };

  /** `object` with its own censored fields replaced (a copy), or `object` when none is. */
  const censorFields = <T extends object>(object: T): T => {
    let copy: T | undefined;
    for (const key of Object.keys(object)) {
      const value = (object as Entry)[key];
      const censored = censor(key, value);
      if (censored !== value) {
        copy ??= copyOf(object);
        (copy as Entry)[key] = censored;
      }
    }
    return copy ?? object;
  };

  const censorHeaders = (req: Entry): Entry => {
    const { headers } = req;
    if (!isObject(headers) || !CREDENTIAL_HEADERS.some((name) => name in headers)) return req;
    const safe = copyOf(headers);
    for (const name of CREDENTIAL_HEADERS) if (name in safe) safe[name] = REDACTED;
    return Object.assign(copyOf(req), { headers: safe });
  };

  return (entry) => {
    let result: Entry | undefined;
    for (const key of Object.keys(entry)) {
      const value = entry[key];
      let censored = censor(key, value);
      if (censored === value && isObject(value)) {
        censored = censorFields(value);
        if (key === 'req') censored = censorHeaders(censored as Entry);
      }
      if (censored !== value) {
        result ??= { ...entry };
        result[key] = censored;
      }
    }
    return result ?? entry;
  };
}
