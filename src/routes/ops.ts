// Operations routes, open without an API key: liveness (no database) and readiness (one statement,
// within DATABASE_TIMEOUT like every other: a silent database is a 503, never a hang).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { problem } from '../errors.js';
import { sendProblem } from '../plugins/app/problems.js';
import { problemResponses } from '../schemas/problem.js';

const Status = Type.Object({ status: Type.Literal('ok') });

const opsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process is up', tags: ['operations'], response: { 200: Status } } },
    async () => ({ status: 'ok' as const }),
  );

  fastify.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the database answers within DATABASE_TIMEOUT',
        tags: ['operations'],
        response: { 200: Status, ...problemResponses('service_unavailable') },
      },
    },
    async (request, reply) => {
      try {
        await fastify.store.ping();
        return { status: 'ok' as const };
      } catch (error) {
        request.log.warn(
          { err: { message: (error as Error).message } },
          'readiness check: database unreachable or too slow',
        );
        return sendProblem(
          reply,
          problem('service_unavailable', 'The database is unreachable or did not answer in time.'),
        );
      }
    },
  );
};

export default opsRoutes;
