// POST /v1/verifications, POST /v1/verifications/verify, GET /v1/verifications/{id}.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFound } from '../../errors.js';
import { problemResponses } from '../../schemas/problem.js';
import {
  ApprovedBody,
  StartBody,
  StartedBody,
  StartHeaders,
  VerificationBody,
  VerificationParams,
  VerifyBody,
} from '../../schemas/verifications.js';
import { isVerificationId } from '../../verification/secrets.js';

const verificationsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/verifications',
    {
      schema: {
        summary: 'Start a verification: send a security code to a number',
        tags: ['verifications'],
        headers: StartHeaders,
        body: StartBody,
        response: {
          201: StartedBody,
          ...problemResponses(
            'validation_error',
            'invalid_phone_number',
            'invalid_idempotency_key',
            'unauthorized',
            'payload_too_large',
            'unsupported_media_type',
            'destination_not_allowed',
            'destination_blocked',
            'idempotency_key_in_use',
            'idempotency_replay_unavailable',
            'idempotency_key_mismatch',
            'rate_limited',
            'internal_error',
            'backend_error',
            'service_unavailable',
          ),
        },
      },
      // An Idempotency-Key makes the start safe to retry (docs/idempotency.md).
      preHandler: fastify.idempotency.preHandler,
      onSend: fastify.idempotency.onSend,
    },
    async (request, reply) => {
      const started = await fastify.verifications.start({
        phoneNumber: request.body.phone_number,
        locale: request.body.locale,
        acceptLanguage: request.headers['accept-language'],
      });
      return reply.code(201).send({
        id: started.id,
        session_token: started.sessionToken,
        phone_number: started.phoneNumber,
        status: started.status,
        expires_at: started.expiresAt.toISOString(),
      });
    },
  );

  fastify.post(
    '/verifications/verify',
    {
      schema: {
        summary: 'Check a security code',
        tags: ['verifications'],
        body: VerifyBody,
        response: {
          200: ApprovedBody,
          ...problemResponses(
            'validation_error',
            'invalid_phone_number',
            'security_code_invalid',
            'security_code_expired',
            'security_code_already_verified',
            'unauthorized',
            'payload_too_large',
            'unsupported_media_type',
            'too_many_attempts',
            'rate_limited',
            'internal_error',
            'service_unavailable',
          ),
        },
      },
    },
    async (request) => {
      const approved = await fastify.verifications.verify({
        phoneNumber: request.body.phone_number,
        securityCode: request.body.security_code,
        sessionToken: request.body.session_token,
      });
      return {
        status: approved.status,
        phone_number: approved.phoneNumber,
        verified_at: approved.verifiedAt.toISOString(),
      };
    },
  );

  fastify.get(
    '/verifications/:id',
    {
      schema: {
        summary: 'Read a verification',
        tags: ['verifications'],
        params: VerificationParams,
        response: {
          200: VerificationBody,
          ...problemResponses(
            'validation_error',
            'bad_request',
            'unauthorized',
            'not_found',
            'uri_too_long',
            'rate_limited',
            'internal_error',
            'service_unavailable',
          ),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      // An id no session can have (not a UUID: a NUL byte, say, which PostgreSQL refuses in text)
      // is not looked up.
      const view = isVerificationId(id) ? await fastify.verifications.get(id) : null;
      if (!view) throw new NotFound(`No verification with id ${JSON.stringify(id)}`);
      return {
        id: view.id,
        phone_number: view.phoneNumber,
        status: view.status,
        created_at: view.createdAt.toISOString(),
        expires_at: view.expiresAt.toISOString(),
        verified_at: view.verifiedAt?.toISOString() ?? null,
        attempts: view.attempts,
        delivery_status: view.deliveryStatus,
        send_attempts: view.sendAttempts.map((attempt) => ({
          backend: attempt.backend,
          status: attempt.status,
          provider_message_id: attempt.providerMessageId,
          error_code: attempt.errorCode,
          created_at: attempt.createdAt.toISOString(),
          updated_at: attempt.updatedAt.toISOString(),
        })),
      };
    },
  );
};

export default verificationsRoutes;
