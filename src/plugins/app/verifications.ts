// Decorates the verification service: the rules, wired to the store, the backend and the settings.
import fp from 'fastify-plugin';
import { type VerificationObserver, VerificationService } from '../../verification/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    verifications: VerificationService;
    /** hooks the metrics plugin fills in; empty when metrics are off */
    verificationObserver: VerificationObserver;
  }
}

export default fp(
  async (fastify) => {
    const { config } = fastify;
    if (!fastify.hasDecorator('verificationObserver')) fastify.decorate('verificationObserver', {});
    const service = new VerificationService(
      fastify.store,
      fastify.backend,
      {
        appName: config.appName,
        tokenLength: config.tokenLength,
        codeExpirySeconds: config.codeExpirySeconds,
        verifyCodeOnlyOnce: config.verifyCodeOnlyOnce,
        maxFailedAttempts: config.maxFailedAttempts,
        templates: { message: config.message, messages: config.messages },
        backendName: config.backend,
        phoneQuota: fastify.hasDecorator('phoneQuota') ? fastify.phoneQuota : undefined,
        sendTimeoutMs: config.sendTimeoutMs,
        admission: fastify.hasDecorator('admission') ? fastify.admission : undefined,
        fallback: fastify.fallbackBackend ?? undefined,
      },
      fastify.log.child({ module: 'verification' }),
      fastify.verificationObserver,
    );
    fastify.decorate('verifications', service);
  },
  { name: 'verifications', dependencies: ['config', 'storage', 'backend'] },
);
