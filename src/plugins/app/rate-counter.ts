// Decorates the counter every rate limit uses: in Redis when REDIS_URL is set (shared by all
// replicas, with the RATE_LIMIT_ON_REDIS_ERROR fallback), else in this process's memory.
import fp from 'fastify-plugin';
import type { RateCounter } from '../../rate-limit/counter.js';
import { FailoverCounter } from '../../rate-limit/failover-counter.js';
import { MemoryCounter } from '../../rate-limit/memory-counter.js';
import { RedisCounter } from '../../rate-limit/redis-counter.js';

declare module 'fastify' {
  interface FastifyInstance {
    rateCounter: RateCounter;
  }
}

export default fp(
  async (fastify) => {
    const { redisKeyPrefix, rateLimitOnRedisError } = fastify.config;
    const counter: RateCounter = fastify.redis
      ? new FailoverCounter(
          new RedisCounter(fastify.redis, `${redisKeyPrefix}rate:`),
          rateLimitOnRedisError,
          fastify.log.child({ module: 'rate-limit' }),
        )
      : new MemoryCounter();
    fastify.decorate('rateCounter', counter);
  },
  { name: 'rate-counter', dependencies: ['config', 'redis'] },
);
