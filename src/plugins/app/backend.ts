// Builds the configured SMS backend once at start; a bad name or plugin stops the start.
import fp from 'fastify-plugin';
import type { BaseBackend } from '../../backends/base.js';
import { createBackend } from '../../backends/registry.js';

declare module 'fastify' {
  interface FastifyInstance {
    backend: BaseBackend;
  }
}

export default fp(
  async (fastify) => {
    const { backend, backendOptions, pluginsDir } = fastify.config;
    fastify.decorate('backend', await createBackend(backend, backendOptions, { pluginsDir }));
    fastify.log.info({ backend }, 'SMS backend ready');
  },
  { name: 'backend', dependencies: ['config'] },
);
