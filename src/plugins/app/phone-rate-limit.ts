// The per-number limit on starts (PHONE_RATE_LIMIT_MAX per PHONE_RATE_LIMIT_WINDOW), given to the
// verification service as its PhoneQuota. The service takes a slot with the normalised E.164
// number (so spellings cannot dodge it) and gives it back when it failed before reaching the
// backend. Counted by the shared rate counter, so replicas sharing Redis share one count.
import { hash } from 'node:crypto';
import fp from 'fastify-plugin';
import { RateLimited } from '../../errors.js';
import type { PhoneQuota } from '../../verification/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    phoneQuota: PhoneQuota;
  }
}

export default fp(
  async (fastify) => {
    const { max, windowMs } = fastify.config.phoneRateLimit;
    const counter = fastify.rateCounter;
    fastify.decorate('phoneQuota', {
      async take(phoneNumber: string) {
        // Hashed, so the counter store (Redis) holds no phone numbers.
        const key = `phone:${hash('sha256', phoneNumber, 'hex')}`;
        const { current, ttlMs } = await counter.hit(key, windowMs);
        if (current > max) {
          const seconds = String(Math.max(1, Math.ceil(ttlMs / 1000)));
          throw Object.assign(
            new RateLimited(`Too many verifications for this phone number; retry in ${seconds} second(s).`),
            {
              headers: {
                'retry-after': seconds,
                'x-ratelimit-limit': String(max),
                'x-ratelimit-remaining': '0',
                'x-ratelimit-reset': seconds,
              },
            },
          );
        }
        return { release: () => counter.refund(key) };
      },
    });
  },
  { name: 'phone-rate-limit', dependencies: ['config', 'rate-counter'] },
);
