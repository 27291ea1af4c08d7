// The per-client-IP limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW) through @fastify/rate-limit,
// counted by the shared rate counter. Not global: app.ts puts it on the /v1 scope, and this plugin
// puts it on unknown routes, so scanning for paths spends the same budget as calling the API.
// Operations routes (health, metrics, docs) stay unlimited for probes and scrapers.
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { RateLimited } from '../../errors.js';
import type { RateCounter } from '../../rate-limit/counter.js';

/** Adapts a RateCounter to the store interface of @fastify/rate-limit. */
class CounterStore implements FastifyRateLimitStore {
  constructor(
    private readonly counter: RateCounter,
    private readonly prefix: string,
  ) {}

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    this.counter.hit(this.prefix + key, timeWindow).then(
      ({ current, ttlMs }) => callback(null, { current, ttl: ttlMs }),
      (error: Error) => callback(error),
    );
  }

  // A route with its own limit counts apart from the shared budget.
  child(options: object): FastifyRateLimitStore {
    const route = (options as { routeInfo?: { method?: string; url?: string } }).routeInfo;
    return new CounterStore(this.counter, `${this.prefix}${route?.method ?? ''}${route?.url ?? ''}:`);
  }
}

export default fp(
  async (fastify) => {
    const { max, windowMs } = fastify.config.rateLimit;
    const counter = fastify.rateCounter;
    await fastify.register(rateLimit, {
      global: false,
      max,
      timeWindow: windowMs,
      store: class extends CounterStore {
        constructor() {
          super(counter, 'ip:');
        }
      },
      // The plugin has set Retry-After and the x-ratelimit-* headers on the reply already.
      errorResponseBuilder: (request, context) => {
        // Counted as a refused start only on the route that starts verifications.
        if (request.method === 'POST' && request.routeOptions.url === '/v1/verifications') {
          if (fastify.hasDecorator('admissionObserver')) fastify.admissionObserver.refused?.('ip_limit');
        }
        return new RateLimited(`Too many requests from this client; retry in ${context.after}.`);
      },
    });
    const limitByIp = fastify.rateLimit();
    fastify.addHook('onRequest', async (request, reply) => {
      if (request.is404) await limitByIp.call(fastify, request, reply);
    });
  },
  { name: 'rate-limit', dependencies: ['config', 'rate-counter'] },
);
