// One error handler and one 404 handler: every error leaves as application/problem+json with its
// stable code. Client errors keep their detail; server errors are logged and answered generically.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isAppError, type Problem, type ProblemCode, problem } from '../../errors.js';

/** Fastify's own error codes, mapped to ours. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_error',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_error',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_error',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'validation_error',
};

const DETAILS: Partial<Record<ProblemCode, string>> = {
  unsupported_media_type: 'Send the body as application/json.',
  payload_too_large: 'The request body is larger than this service accepts.',
};

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json; charset=utf-8').send(body);
}

function toProblem(error: FastifyError, request: FastifyRequest): Problem {
  if (error.validation) {
    const detail = error.message.replace(/^body\//, '').replace(/^body /, '');
    return problem('validation_error', `Invalid request: ${detail}`);
  }
  if (isAppError(error)) {
    const body = problem(error.code, error.message);
    if (body.status >= 500 && error.code !== 'backend_error' && error.code !== 'service_unavailable') {
      // Server-side failures say nothing of their cause to the caller.
      return problem(error.code, 'The service failed to handle this request.');
    }
    return body;
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) {
    const detail = mapped === 'validation_error' ? `Invalid request: ${error.message}` : DETAILS[mapped]!;
    return problem(mapped, detail);
  }
  const status = error.statusCode ?? 500;
  if (status === 404) return problem('not_found', `No route ${request.method} ${request.url.split('?')[0]}`);
  if (status >= 400 && status < 500) return { ...problem('validation_error', error.message), status };
  return problem('internal_error', 'The service failed to handle this request.');
}

export default fp(
  async (fastify) => {
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      const body = toProblem(error, request);
      if (body.status >= 500) request.log.error({ err: error, code: body.code }, 'request failed');
      else request.log.debug({ code: body.code }, error.message);
      const { headers } = error as FastifyError & { headers?: Record<string, string> };
      if (headers) reply.headers(headers);
      return sendProblem(reply, body);
    });
    fastify.setNotFoundHandler((request, reply) =>
      sendProblem(reply, problem('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'problems' },
);
