// Applies RATE_LIMIT_ON_REDIS_ERROR when the Redis counter fails, so an outage of Redis neither
// crashes the service nor hangs requests: `local` keeps counting in this replica's memory, `open`
// stops limiting, `closed` answers 503. One error line per outage, one info line on recovery.
import type { RedisFailurePolicy } from '../config.js';
import { AppError } from '../errors.js';
import type { RateCounter, WindowCount } from './counter.js';
import { MemoryCounter } from './memory-counter.js';

export interface FailoverLogger {
  error(object: object, message: string): void;
  info(object: object, message: string): void;
}

export class FailoverCounter implements RateCounter {
  readonly #local = new MemoryCounter();
  #failing = false;

  constructor(
    private readonly shared: RateCounter,
    private readonly policy: RedisFailurePolicy,
    private readonly log: FailoverLogger,
  ) {}

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    try {
      const count = await this.shared.hit(key, windowMs);
      this.#recovered();
      return count;
    } catch (error) {
      this.#failed(error);
      if (this.policy === 'local') return this.#local.hit(key, windowMs);
      if (this.policy === 'open') return { current: 0, ttlMs: windowMs };
      throw new AppError(
        'service_unavailable',
        'Rate limits cannot be checked right now; try again shortly.',
      );
    }
  }

  async refund(key: string): Promise<void> {
    try {
      await this.shared.refund(key);
      this.#recovered();
    } catch (error) {
      this.#failed(error);
      await this.#local.refund(key);
    }
  }

  #failed(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    const behaviour = {
      local: 'counting in this replica only',
      open: 'not limiting',
      closed: 'refusing limited requests with 503',
    }[this.policy];
    this.log.error(
      { err: { message: (error as Error).message }, policy: this.policy },
      `rate-limit store (Redis) unreachable: ${behaviour} until it is back (RATE_LIMIT_ON_REDIS_ERROR)`,
    );
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.log.info({}, 'rate-limit store (Redis) reachable again: limits are shared again');
  }
}
