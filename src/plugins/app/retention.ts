// Purges finished and expired sessions older than PHONE_VERIFICATION_RECORD_RETENTION_DAYS, and
// expired idempotency keys, every PURGE_INTERVAL (off with 0). Runs are jittered so replicas started together spread out, the timer
// is unref'd (it never keeps the process alive), and close waits for a run in progress.
import fp from 'fastify-plugin';
import { type PurgeResult, purgeVerifications } from '../../retention/purge.js';

export interface Retention {
  /** one purge now, as the schedule would run it */
  runNow(): Promise<PurgeResult>;
}

declare module 'fastify' {
  interface FastifyInstance {
    retention: Retention;
  }
}

/** The first run comes soon after start (within about a minute), later ones every interval ±10%. */
function firstDelay(intervalMs: number): number {
  return Math.min(intervalMs, 60_000) * (0.5 + Math.random());
}
function nextDelay(intervalMs: number): number {
  return intervalMs * (0.9 + 0.2 * Math.random());
}

export default fp(
  async (fastify) => {
    const { recordRetentionDays, purgeIntervalMs } = fastify.config;
    const log = fastify.log.child({ module: 'retention' });
    let running: Promise<PurgeResult> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;

    const purgeOnce = async (): Promise<PurgeResult> => {
      // On the service's own database: on SQLite one connection writes for the whole process, and
      // on PostgreSQL a batch holds one pooled connection for a few milliseconds.
      const result = await purgeVerifications(fastify.database, { days: recordRetentionDays });
      if (fastify.hasDecorator('metrics')) fastify.metrics.purged.inc(result.count);
      if (result.count > 0) {
        log.info(
          { deleted: result.count, batches: result.batches, cutoff: result.cutoff.toISOString() },
          `purged ${result.count} verification(s) older than ${recordRetentionDays} day(s)`,
        );
      }
      if (result.idempotencyKeys > 0) {
        log.info(
          { deleted: result.idempotencyKeys },
          `purged ${result.idempotencyKeys} expired idempotency key(s)`,
        );
      }
      return result;
    };

    const runNow = (): Promise<PurgeResult> => {
      running ??= purgeOnce().finally(() => {
        running = undefined;
      });
      return running;
    };

    const schedule = (delay: number) => {
      timer = setTimeout(async () => {
        try {
          await runNow();
        } catch (error) {
          log.warn({ err: { message: (error as Error).message } }, 'retention purge failed; will retry');
        }
        if (!closed) schedule(nextDelay(purgeIntervalMs));
      }, delay);
      timer.unref();
    };

    fastify.decorate('retention', { runNow });
    if (purgeIntervalMs > 0) {
      fastify.addHook('onReady', async () => schedule(firstDelay(purgeIntervalMs)));
    }
    fastify.addHook('onClose', async () => {
      closed = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    });
  },
  { name: 'retention', dependencies: ['config', 'storage'] },
);
