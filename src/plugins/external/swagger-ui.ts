// Swagger UI at /docs, its scripts and styles served from the installed swagger-ui-dist (no CDN),
// reading the document this service generates.
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

export default fp(
  async (fastify) => {
    await fastify.register(swaggerUi, {
      routePrefix: '/docs',
      // validatorUrl null: the UI would otherwise send the document to validator.swagger.io.
      uiConfig: { validatorUrl: null, deepLinking: true, tryItOutEnabled: true },
    });
  },
  { name: 'swagger-ui', dependencies: ['swagger'] },
);
