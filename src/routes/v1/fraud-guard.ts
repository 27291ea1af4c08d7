// GET /v1/fraud-guard/blocks and DELETE /v1/fraud-guard/blocks/{prefix}: the operator's view of
// the fraud guard (docs/sms-bill-protection.md, "Handling a false positive").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFound } from '../../errors.js';
import { problemResponses } from '../../schemas/problem.js';

const BlockBody = Type.Object({
  prefix: Type.String({ examples: ['+4477009'] }),
  blocked_at: Type.String({ format: 'date-time' }),
  until: Type.String({ format: 'date-time' }),
  starts: Type.Integer({ description: 'judged starts when the block was set' }),
  approvals: Type.Integer({ description: 'of which approved' }),
});

const fraudGuardRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/fraud-guard/blocks',
    {
      schema: {
        summary: 'Destination prefixes the fraud guard blocks now',
        tags: ['fraud guard'],
        response: {
          200: Type.Object({ blocks: Type.Array(BlockBody) }),
          ...problemResponses('unauthorized', 'rate_limited', 'service_unavailable'),
        },
      },
    },
    async () => {
      const blocks = await fastify.admission.blocks();
      return {
        blocks: blocks
          .sort((a, b) => a.blockedAt - b.blockedAt)
          .map((block) => ({
            prefix: block.prefix,
            blocked_at: new Date(block.blockedAt).toISOString(),
            until: new Date(block.until).toISOString(),
            starts: block.starts,
            approvals: block.approvals,
          })),
      };
    },
  );

  fastify.delete(
    '/fraud-guard/blocks/:prefix',
    {
      schema: {
        summary: 'Lift a block: the prefix is served again and its counts start afresh',
        tags: ['fraud guard'],
        params: Type.Object({ prefix: Type.String({ maxLength: 16, examples: ['+4477009'] }) }),
        response: {
          204: Type.Null(),
          ...problemResponses('unauthorized', 'not_found', 'rate_limited', 'service_unavailable'),
        },
      },
    },
    async (request, reply) => {
      const { prefix } = request.params;
      const lifted = /^\+\d{1,15}$/.test(prefix) ? await fastify.admission.lift(prefix) : undefined;
      if (!lifted) throw new NotFound(`No block on prefix ${JSON.stringify(prefix)}`);
      return reply.code(204).send(null);
    },
  );
};

export default fraudGuardRoutes;
