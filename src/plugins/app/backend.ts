// Builds the configured SMS backends once at start: the primary (PHONE_VERIFICATION_BACKEND) and the
// optional fallback (PHONE_VERIFICATION_FALLBACK_BACKEND); a bad name or plugin stops the start.
import fp from 'fastify-plugin';
import type { BaseBackend } from '../../backends/base.js';
import { createBackend } from '../../backends/registry.js';
import { ConfigError } from '../../config.js';

/** A backend with the name it was configured by (for logs, metrics and send_attempts). */
export interface NamedBackend {
  name: string;
  backend: BaseBackend;
}

declare module 'fastify' {
  interface FastifyInstance {
    backend: BaseBackend;
    /** the fallback backend, null when none is configured */
    fallbackBackend: NamedBackend | null;
    /** every configured backend by name: the primary, then the fallback */
    configuredBackends: NamedBackend[];
  }
}

/**
 * A fallback's configuration error names the fallback's variables: the backends and the plugin
 * loader name PHONE_VERIFICATION_BACKEND and PHONE_VERIFICATION_OPTIONS_<KEY>, whichever they serve.
 */
function asFallbackError(error: unknown): unknown {
  if (!(error instanceof ConfigError)) return error;
  return new ConfigError(
    error.message.replace(
      /\bPHONE_VERIFICATION_(BACKEND|OPTIONS)(?=\b|_)/g,
      'PHONE_VERIFICATION_FALLBACK_$1',
    ),
  );
}

export default fp(
  async (fastify) => {
    const { backend, backendOptions, pluginsDir, publicUrl, fallbackBackend, fallbackBackendOptions } =
      fastify.config;
    const context = { pluginsDir, publicUrl };
    const primary = await createBackend(backend, backendOptions, context);
    let fallback: NamedBackend | null = null;
    if (fallbackBackend) {
      try {
        fallback = {
          name: fallbackBackend,
          backend: await createBackend(fallbackBackend, fallbackBackendOptions, context),
        };
      } catch (error) {
        throw asFallbackError(error);
      }
    }
    fastify.decorate('backend', primary);
    fastify.decorate('fallbackBackend', fallback);
    fastify.decorate('configuredBackends', [
      { name: backend, backend: primary },
      ...(fallback ? [fallback] : []),
    ]);
    fastify.log.info({ backend, fallback_backend: fallbackBackend ?? null }, 'SMS backend ready');
  },
  { name: 'backend', dependencies: ['config'] },
);
