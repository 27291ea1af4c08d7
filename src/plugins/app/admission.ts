// Decorates the SMS-bill protections (src/abuse/): counted in Redis when REDIS_URL is set (shared
// by every replica, with the RATE_LIMIT_ON_REDIS_ERROR fallback), else in this process's memory.
import fp from 'fastify-plugin';
import { Admission } from '../../abuse/admission.js';
import { approvalBatchMs, BatchedApprovals } from '../../abuse/batched-approvals.js';
import { FailoverGuardStore } from '../../abuse/failover-guard-store.js';
import type { GuardStore } from '../../abuse/guard-store.js';
import { MemoryGuardStore } from '../../abuse/memory-guard-store.js';
import { RedisGuardStore } from '../../abuse/redis-guard-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    admission: Admission;
  }
}

export default fp(
  async (fastify) => {
    const { config } = fastify;
    const log = fastify.log.child({ module: 'sms-bill-protection' });
    let store: GuardStore = new MemoryGuardStore();
    if (fastify.redis) {
      const batched = new BatchedApprovals(
        new FailoverGuardStore(
          new RedisGuardStore(fastify.redis, `${config.redisKeyPrefix}abuse:`),
          config.rateLimitOnRedisError,
          log,
        ),
        log,
        approvalBatchMs(config.fraudGuard.graceMs),
      );
      // Before Redis closes (its plugin was registered first, so its onClose runs after this one).
      fastify.addHook('onClose', () => batched.flush());
      store = batched;
    }
    const observer = fastify.hasDecorator('admissionObserver') ? fastify.admissionObserver : {};
    fastify.decorate('admission', new Admission(config, store, log, observer));
  },
  { name: 'admission', dependencies: ['config', 'redis'] },
);
