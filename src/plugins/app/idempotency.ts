// Idempotency-Key on POST /v1/verifications (docs/idempotency.md), as two route hooks: preHandler
// claims the key or replays the answer stored for it; onSend stores the answer of the request that
// held the claim (or gives the key back when the answer is not one to replay). The start itself is
// untouched: a replayed request never reaches it.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Claim, IdempotentStarts, isReplayable } from '../../idempotency/idempotent-starts.js';
import {
  apiKeyScope,
  idempotencyKeyOf,
  idempotentRequest,
  OPEN_SCOPE,
} from '../../idempotency/request-key.js';
import { AnswerSealer } from '../../idempotency/sealed-answer.js';
import { SqlIdempotencyStore } from '../../storage/idempotency-store.js';
import { bearerToken } from './auth.js';

export interface IdempotencyHooks {
  preHandler(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** the route hooks that make a start idempotent under an Idempotency-Key header */
    idempotency: IdempotencyHooks;
  }
}

/** The header a replayed answer carries, as Stripe's API names it. */
export const REPLAYED_HEADER = 'idempotent-replayed';
/** The longest a request waits for a concurrent one with its key, whatever SEND_TIMEOUT is. */
const MAX_WAIT_MS = 20_000;

export default fp(
  async (fastify) => {
    const { config } = fastify;
    let secret: Buffer;
    if (config.serverSecret) {
      secret = Buffer.from(config.serverSecret, 'utf8');
    } else {
      // No secret shared with other replicas: sends are still deduplicated everywhere (the claim
      // is in the database), but only this process can open the answers it stored.
      secret = randomBytes(32);
      fastify.log.warn(
        'SERVER_SECRET is unset: an Idempotency-Key retry is answered with the first answer only by ' +
          'this process, until it stops; other replicas and later runs answer 409 idempotency_replay_unavailable',
      );
    }
    // A concurrent request waits as long as a start can take: a send and a fallback send.
    const waitMs = Math.min(2 * config.sendTimeoutMs + 5_000, MAX_WAIT_MS);
    const starts = new IdempotentStarts(new SqlIdempotencyStore(fastify.database), new AnswerSealer(secret), {
      waitMs,
    });
    const claims = new WeakMap<FastifyRequest, Claim>();
    const keyed = config.apiKeys.length > 0;

    const preHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      if (key === undefined) return undefined;
      // With API_KEYS set the key check has passed: the bearer credential is one of them.
      const scope = keyed ? apiKeyScope(bearerToken(request.headers.authorization)) : OPEN_SCOPE;
      const admission = await starts.admit(idempotentRequest(key, scope, request.body));
      if (admission.kind === 'run') {
        claims.set(request, admission.claim);
        return undefined;
      }
      const { answer } = admission;
      return reply
        .code(answer.status)
        .header('content-type', answer.contentType)
        .header(REPLAYED_HEADER, 'true')
        .send(answer.body);
    };

    const onSend = async (
      request: FastifyRequest,
      reply: FastifyReply,
      payload: unknown,
    ): Promise<unknown> => {
      const claim = claims.get(request);
      if (!claim) return payload;
      claims.delete(request);
      const body =
        typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString() : null;
      const status = reply.statusCode;
      try {
        await claim.finish(
          {
            status,
            contentType: String(reply.getHeader('content-type') ?? 'application/json'),
            body: body ?? '',
          },
          body !== null && isReplayable(status, reply.hasHeader('retry-after')),
        );
      } catch (error) {
        // The client still gets its answer; the key stays claimed until its lease ends, so a retry
        // within that time waits and is told to come back (409) instead of sending again.
        request.log.error(
          { err: { message: (error as Error).message } },
          'could not store the answer of an Idempotency-Key request',
        );
      }
      return payload;
    };

    fastify.decorate('idempotency', { preHandler, onSend });
  },
  { name: 'idempotency', dependencies: ['config', 'storage'] },
);
