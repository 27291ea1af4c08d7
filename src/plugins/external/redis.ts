// The ioredis client that holds the rate-limit counters when REDIS_URL is set (null otherwise).
// Tuned so Redis going away can neither crash the process nor hang a request: errors are
// listened to, commands fail at once while disconnected, and the client reconnects on its own.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis | null;
  }
}

const CONNECT_TIMEOUT_MS = 2_000;
/** A rate-limit check is one small script: a Redis that takes longer than this counts as down. */
const COMMAND_TIMEOUT_MS = 1_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

export default fp(
  async (fastify) => {
    const { redisUrl } = fastify.config;
    if (!redisUrl) {
      fastify.decorate('redis', null);
      return;
    }
    const log = fastify.log.child({ module: 'redis' });
    const redis = new Redis(redisUrl, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // Without a connection a command fails now (and the limits apply their Redis failure policy)
      // instead of waiting in a queue for a reconnect that may never come.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // The limits of the requests one event-loop turn brings (the per-IP and per-number counters,
      // the fraud guard's script) go out in one write instead of one each.
      enableAutoPipelining: true,
      // Reconnect forever, backing off to one attempt every 2 s.
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    });
    // Without a listener an 'error' event would crash the process. One line per outage, not per retry;
    // the URL is never logged (it may hold a password).
    let connected = false;
    let reported = false;
    redis.on('error', (error: Error) => {
      if (reported) return;
      reported = true;
      log.warn({ err: { message: error.message } }, 'Redis connection error; reconnecting in the background');
    });
    redis.on('ready', () => {
      if (reported || !connected) log.info('Redis connected');
      connected = true;
      reported = false;
    });

    try {
      await redis.connect();
    } catch (error) {
      // Not fatal: the limits follow RATE_LIMIT_ON_REDIS_ERROR until the client gets through.
      log.error(
        { err: { message: (error as Error).message } },
        'Redis unreachable at start; rate limits follow RATE_LIMIT_ON_REDIS_ERROR until it answers',
      );
    }

    fastify.decorate('redis', redis);
    fastify.addHook('onClose', async () => {
      if (redis.status !== 'ready') {
        redis.disconnect(); // also cancels a pending reconnect
        return;
      }
      const ended = once(redis, 'end');
      await redis.quit().catch(() => redis.disconnect());
      await Promise.race([ended, sleep(COMMAND_TIMEOUT_MS, undefined, { ref: false })]);
    });
  },
  { name: 'redis', dependencies: ['config'] },
);
