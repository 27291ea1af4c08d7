// GET /openapi.json: the OpenAPI 3.1 document of every route, for generators and the /docs page.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

const openapiRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  let body: string | undefined;
  fastify.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This OpenAPI 3.1 document',
        tags: ['operations'],
        response: { 200: Type.Object({ openapi: Type.String() }, { additionalProperties: true }) },
      },
    },
    async (_request, reply) => {
      // The routes are fixed once the app is ready: build the text once.
      body ??= JSON.stringify(fastify.swagger());
      // Already JSON text: a string payload skips the response serializer.
      return reply.type('application/json; charset=utf-8').send(body as unknown as { openapi: string });
    },
  );
};

export default openapiRoutes;
