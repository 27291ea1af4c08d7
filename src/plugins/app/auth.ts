// API keys (API_KEYS): when set, every /v1 request needs `Authorization: Bearer <key>`; a missing,
// malformed or unknown key is a 401 with `WWW-Authenticate: Bearer`. Keys are compared in constant
// time and never logged. Unset, the API is open and the start logs one warning saying so.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Unauthorized } from '../../errors.js';
import { secretEquals } from '../../verification/secrets.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook for the /v1 scope */
    requireApiKey: (request: FastifyRequest) => Promise<void>;
  }
}

const REALM = 'Bearer realm="phone-verify"';
/** Shorter keys are reported at start: a key is the only thing between the internet and the SMS bill. */
const MIN_KEY_LENGTH = 16;

/** The credential of an `Authorization: Bearer <token>` header (RFC 6750), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}

function refuse(detail: string, challenge: string): Error {
  return Object.assign(new Unauthorized(detail), { headers: { 'www-authenticate': challenge } });
}

export default fp(
  async (fastify) => {
    const keys = fastify.config.apiKeys;
    if (keys.length === 0) {
      fastify.log.warn('API_KEYS is unset: the /v1 API is open to anyone who can reach it');
    }
    const weak = keys.filter((key) => key.length < MIN_KEY_LENGTH).length;
    if (weak > 0) {
      fastify.log.warn(
        { keys: weak },
        `API_KEYS holds keys shorter than ${MIN_KEY_LENGTH} characters: use long random keys`,
      );
    }

    fastify.decorate('requireApiKey', async (request: FastifyRequest) => {
      if (keys.length === 0) return;
      const header = request.headers.authorization;
      if (header === undefined) {
        throw refuse('Send an API key as "Authorization: Bearer <key>".', REALM);
      }
      const token = bearerToken(header);
      if (token === undefined) {
        throw refuse('The Authorization header must be "Bearer <key>".', `${REALM}, error="invalid_request"`);
      }
      // Every key is compared, so the time taken says nothing about which key came close.
      let known = false;
      for (const key of keys) known = secretEquals(token, key) || known;
      if (!known) throw refuse('The API key is not valid.', `${REALM}, error="invalid_token"`);
    });
  },
  { name: 'auth', dependencies: ['config'] },
);
