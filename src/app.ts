// The phone-verify Fastify application as a plugin, without listen(): server.ts runs it, tests
// register it on a bare Fastify instance.
import fp from 'fastify-plugin';
import type { Config } from './config.js';
import admission from './plugins/app/admission.js';
import auth from './plugins/app/auth.js';
import backend from './plugins/app/backend.js';
import configPlugin from './plugins/app/config.js';
import idempotency from './plugins/app/idempotency.js';
import metrics from './plugins/app/metrics.js';
import phoneRateLimit from './plugins/app/phone-rate-limit.js';
import problems from './plugins/app/problems.js';
import rateCounter from './plugins/app/rate-counter.js';
import retention from './plugins/app/retention.js';
import storage from './plugins/app/storage.js';
import verifications from './plugins/app/verifications.js';
import helmet from './plugins/external/helmet.js';
import rateLimit from './plugins/external/rate-limit.js';
import redis from './plugins/external/redis.js';
import swagger from './plugins/external/swagger.js';
import swaggerUi from './plugins/external/swagger-ui.js';
import djangoRoutes from './routes/django/phone.js';
import metricsRoutes from './routes/metrics.js';
import openapiRoutes from './routes/openapi.js';
import opsRoutes from './routes/ops.js';
import callbacksRoutes from './routes/v1/callbacks.js';
import fraudGuardRoutes from './routes/v1/fraud-guard.js';
import verificationsRoutes from './routes/v1/verifications.js';
import twilioRoutes from './routes/v2/twilio.js';
import { ProblemSchema } from './schemas/problem.js';

export interface AppOptions {
  config: Config;
}

export default fp<AppOptions>(
  async function app(fastify, { config }) {
    // JSON only: a text/plain body is a 415, not a string to validate.
    fastify.removeContentTypeParser(['text/plain']);
    fastify.addSchema(ProblemSchema);

    await fastify.register(configPlugin, { config });
    await fastify.register(problems);
    await fastify.register(helmet);
    await fastify.register(redis);
    await fastify.register(rateCounter);
    await fastify.register(rateLimit);
    await fastify.register(auth);
    // Before any route: the document is collected as routes are added.
    await fastify.register(swagger);
    // Before verifications: it supplies the service's observer hooks.
    await fastify.register(metrics);
    // The backend first: a misconfigured one refuses the start before migrations touch the database.
    await fastify.register(backend);
    await fastify.register(storage);
    await fastify.register(phoneRateLimit);
    await fastify.register(admission);
    await fastify.register(verifications);
    await fastify.register(idempotency);
    await fastify.register(retention);

    await fastify.register(opsRoutes);
    await fastify.register(metricsRoutes);
    await fastify.register(openapiRoutes);
    await fastify.register(swaggerUi);
    await fastify.register(
      async (v1) => {
        // The per-IP limit runs before the key check, so guessing keys spends the same budget.
        v1.addHook('onRequest', v1.rateLimit());
        v1.addHook('onRequest', v1.requireApiKey);
        // Replies carry session tokens and verification state: no cache may keep them.
        v1.addHook('onSend', async (_request, reply) => {
          reply.header('cache-control', 'no-store');
        });
        await v1.register(verificationsRoutes);
        await v1.register(fraudGuardRoutes);
      },
      { prefix: '/v1' },
    );
    // Delivery receipts: providers send no API key; every receipt is checked by its signature.
    await fastify.register(callbacksRoutes, { prefix: '/v1' });
    await fastify.register(
      async (v2) => {
        v2.addHook('onRequest', v2.rateLimit());
        await v2.register(twilioRoutes);
      },
      { prefix: '/v2' },
    );
    await fastify.register(
      async (django) => {
        django.addHook('onRequest', django.rateLimit());
        django.addHook('onRequest', django.requireApiKey);
        django.addHook('onSend', async (_request, reply) => {
          reply.header('cache-control', 'no-store');
        });
        await django.register(djangoRoutes);
      },
      { prefix: '/api/phone' },
    );
  },
  { name: 'phone-verify' },
);
