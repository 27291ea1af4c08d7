// The logger a backend gets as `this.logger`: every line it writes is censored of the security
// codes and message texts of the sends in flight, wherever they appear (any field, nested, inside
// an error's message or stack, in the msg string). A backend serves many starts at once and one
// logger serves them all, so the censor knows every send in flight, not only the caller's.
import { format } from 'node:util';
import type { BackendLogger } from './base.js';

const MESSAGE = '[message]';
const CODE = '[redacted]';
const MAX_DEPTH = 8;
// A timed-out send may still be running in the backend, and log what it was sending.
const KEPT_AFTER_TIMEOUT_MS = 60_000;

/** The secrets of one send, held while it runs. */
export class HeldSecrets {
  code: string | undefined;
  message: string | undefined;
  #keepAfterRelease = false;

  constructor(private readonly entries: Set<HeldSecrets>) {
    entries.add(this);
  }

  /** the security code (censored once it is 3 characters or more) */
  holdCode(value: string): void {
    if (value.length >= 3) this.code = value;
  }

  /** the message text that carries it */
  holdMessage(value: string): void {
    if (value.length > 0) this.message = value;
  }

  /** the send timed out and may still be running: release() lets go a while later */
  keepAfterRelease(): void {
    this.#keepAfterRelease = true;
  }

  release(): void {
    if (this.#keepAfterRelease) setTimeout(() => this.entries.delete(this), KEPT_AFTER_TIMEOUT_MS).unref();
    else this.entries.delete(this);
  }
}

export class SecretsInFlight {
  readonly #entries = new Set<HeldSecrets>();

  hold(): HeldSecrets {
    return new HeldSecrets(this.#entries);
  }

  /** How many sends hold secrets now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The censor for the secrets held now (longest first, so a message goes before its code), or none. */
  censor(): ((text: string) => string) | undefined {
    if (this.#entries.size === 0) return undefined;
    const needles: [string, string][] = [];
    for (const { code, message } of this.#entries) {
      if (message) needles.push([message, MESSAGE]);
      if (code) needles.push([code, CODE]);
    }
    needles.sort((a, b) => b[0].length - a[0].length);
    return (text) => {
      let result = text;
      for (const [needle, by] of needles) if (result.includes(needle)) result = result.split(needle).join(by);
      return result;
    };
  }
}

/** A copy of `value` with every string censored; the backend's own objects are never changed. */
function censorValue(
  value: unknown,
  censor: (text: string) => string,
  depth: number,
  seen: Map<object, unknown>,
) {
  if (typeof value === 'string') return censor(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    // A code logged as a number.
    const text = String(value);
    const censored = censor(text);
    return censored === text ? value : censored;
  }
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  if (seen.has(value)) return seen.get(value);
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(censorValue(item, censor, depth + 1, seen));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  if (value instanceof Error) {
    // Non-enumerable, and where a message most often ends up.
    copy.type = value.name;
    copy.message = censor(String(value.message));
    if (value.stack) copy.stack = censor(value.stack);
  }
  for (const key of Object.keys(value)) {
    let field: unknown;
    try {
      field = (value as Record<string, unknown>)[key];
    } catch {
      field = '[unreadable]';
    }
    copy[key] = censorValue(field, censor, depth + 1, seen);
  }
  return copy;
}

type Method = (object: object, message?: string) => void;

/** A pino logger as far as backends reach it: the contract's four levels, and what pino adds. */
export interface LoggerTarget extends BackendLogger {
  trace?: Method;
  fatal?: Method;
  child?: (bindings: Record<string, unknown>) => LoggerTarget;
}

const LEVELS = ['info', 'warn', 'error', 'debug', 'trace', 'fatal'] as const;

/**
 * `target`, with every line censored of `secrets`. Takes pino's call forms (an object and/or a
 * printf-style message); `child()` gives a censoring logger too.
 */
export function censoringLogger(target: LoggerTarget, secrets: SecretsInFlight): BackendLogger {
  const write =
    (method: Method) =>
    (first: unknown, ...rest: unknown[]) => {
      let object: object = {};
      let text: string | undefined;
      try {
        const censor = secrets.censor();
        if (typeof first === 'object' && first !== null) {
          object = first;
          if (rest.length > 0) text = format(...rest);
        } else {
          text = format(first, ...rest);
        }
        if (censor) {
          object = censorValue(object, censor, 0, new Map()) as object;
          if (text !== undefined) text = censor(text);
        }
      } catch {
        // A value that fights being read (a throwing getter, a Proxy): its line says only that.
        object = {};
        text = 'a backend log line that could not be read';
      }
      method.call(target, object, text);
    };
  const logger: Record<string, unknown> = {};
  for (const level of LEVELS) logger[level] = write(target[level] ?? target.info);
  logger.child = (bindings: Record<string, unknown>) => {
    const censor = secrets.censor();
    const safe = censor ? (censorValue(bindings, censor, 0, new Map()) as Record<string, unknown>) : bindings;
    return censoringLogger(target.child ? target.child(safe) : target, secrets);
  };
  return logger as unknown as BackendLogger;
}
