// Fastify options shared by the server and the tests, so both validate and limit alike.
import { randomUUID } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { OneLineRequestLog } from './request-log.js';

/** Largest request body accepted; a verification request is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export function loggerOptions(config: Config): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
      censor: '[redacted]',
    },
  };
}

export function serverOptions(config: Config): FastifyServerOptions {
  return {
    logger: loggerOptions(config),
    logController: new OneLineRequestLog(),
    bodyLimit: BODY_LIMIT_BYTES,
    // a hop count is valid (proxy-addr) though Fastify's types omit it
    trustProxy: config.trustProxy as FastifyServerOptions['trustProxy'],
    // Validation must not turn 123 into "123" or "true" into true: ill-typed input is an error.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    pluginTimeout: 120_000,
    requestTimeout: 30_000,
    genReqId: () => randomUUID(),
  };
}
