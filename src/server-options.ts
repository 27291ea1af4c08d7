// Fastify options shared by the server and the tests, so both validate and limit alike.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyServerOptions } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';
import { createRedactor } from './log-redaction.js';
import { clientErrorHandler, frameworkErrors } from './plugins/app/problems.js';
import { OneLineRequestLog } from './request-log.js';
import { maskPhoneNumber } from './verification/phone.js';

/** Largest request body accepted; a verification request is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Log fields that never show their value, at the top level of a log line or one level down:
 * credentials, session tokens, security codes, backend options and their secrets
 * (src/log-redaction.ts).
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'api_key',
  'apiKey',
  'apiKeys',
  'session_token',
  'sessionToken',
  'security_code',
  'securityCode',
  'token',
  'auth_token',
  'sandbox_token',
  'secret',
  'password',
  'key',
  'backendOptions',
];
const PHONE_FIELDS = ['phone_number', 'phoneNumber'];

export function loggerOptions(config: Config): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  // Numbers stay recognisable enough to correlate lines (LOG_PHONE_NUMBERS=masked, the default).
  const redact = createRedactor({
    secretFields: SECRET_FIELDS,
    phoneFields: PHONE_FIELDS,
    maskPhone: config.logPhoneNumbers === 'masked' ? maskPhoneNumber : null,
  });
  // ISO-8601 times ("2026-11-25T14:00:00.000Z"): what log collectors and people read without help.
  return { level: config.logLevel, formatters: { log: redact }, timestamp: pino.stdTimeFunctions.isoTime };
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count becomes a function of the hop: Fastify 5 reads a
 * bare number as "trust nobody" (it cannot check the immediate peer's address), where operators
 * mean what Express means: the nearest N hops are proxies, the address before them is the client.
 */
export function trustProxyOption(setting: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof setting !== 'number') return setting;
  if (setting <= 0) return false;
  return (_address: string, hop: number) => hop < setting;
}

/** How long a client may take to send a request, and how often Node checks. */
export interface RequestDeadlines {
  /** headers and body, from the request's first byte (docs/operations.md, "Slow clients and timeouts") */
  requestTimeoutMs: number;
  /** how often Node looks for requests past their deadline: a request is cut within this much after it */
  checkIntervalMs: number;
}

export const REQUEST_DEADLINES: RequestDeadlines = { requestTimeoutMs: 30_000, checkIntervalMs: 1_000 };

export function serverOptions(
  config: Config,
  deadlines: RequestDeadlines = REQUEST_DEADLINES,
): FastifyHttpOptions<Server> {
  return {
    logger: loggerOptions(config),
    logController: new OneLineRequestLog(),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: trustProxyOption(config.trustProxy),
    // Validation must not turn 123 into "123" or "true" into true: ill-typed input is an error.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // The problems plugin answers requests that arrive while stopping, as problem+json.
    return503OnClosing: false,
    pluginTimeout: 120_000,
    // Node's defaults would allow headers 60 s, checked only every 30 s.
    requestTimeout: deadlines.requestTimeoutMs,
    http: {
      headersTimeout: deadlines.requestTimeoutMs,
      connectionsCheckingInterval: deadlines.checkIntervalMs,
      // Checked by the problems plugin instead, so the 400 is problem+json too.
      requireHostHeader: false,
    },
    frameworkErrors,
    clientErrorHandler,
    genReqId: () => randomUUID(),
  };
}
