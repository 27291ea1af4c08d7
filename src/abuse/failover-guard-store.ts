// RATE_LIMIT_ON_REDIS_ERROR for the SMS-bill protections, as for the rate limits: while Redis is
// unreachable `local` counts in this replica's memory, `open` admits every start, `closed` answers
// 503. One error line per outage, one info line on recovery.
import type { RedisFailurePolicy } from '../config.js';
import { AppError } from '../errors.js';
import type { FailoverLogger } from '../rate-limit/failover-counter.js';
import type { AdmissionQuery, AdmissionResult, Approval, Block, GuardStore } from './guard-store.js';
import { MemoryGuardStore } from './memory-guard-store.js';

export class FailoverGuardStore implements GuardStore {
  readonly #local = new MemoryGuardStore();
  #failing = false;

  constructor(
    private readonly shared: GuardStore,
    private readonly policy: RedisFailurePolicy,
    private readonly log: FailoverLogger,
  ) {}

  admit(query: AdmissionQuery): Promise<AdmissionResult> {
    return this.#either(
      () => this.shared.admit(query),
      () => this.#local.admit(query),
      { newBlocks: [], wouldRefuse: false },
    );
  }

  approve(approvals: Approval[], keepMs: number): Promise<void> {
    return this.#either(
      () => this.shared.approve(approvals, keepMs),
      () => this.#local.approve(approvals, keepMs),
      undefined,
    );
  }

  blocks(now: number): Promise<Block[]> {
    return this.#either(
      () => this.shared.blocks(now),
      () => this.#local.blocks(now),
      [],
    );
  }

  lift(prefix: string): Promise<Block | undefined> {
    return this.#either(
      () => this.shared.lift(prefix),
      () => this.#local.lift(prefix),
      undefined,
    );
  }

  async #either<T>(shared: () => Promise<T>, local: () => Promise<T>, open: T): Promise<T> {
    try {
      const value = await shared();
      if (this.#failing) {
        this.#failing = false;
        this.log.info({}, 'SMS-bill protection store (Redis) is back');
      }
      return value;
    } catch (error) {
      if (!this.#failing) {
        this.#failing = true;
        this.log.error(
          { err: { message: (error as Error).message }, policy: this.policy },
          'SMS-bill protection store (Redis) unreachable: applying RATE_LIMIT_ON_REDIS_ERROR until it is back',
        );
      }
      if (this.policy === 'local') return local();
      if (this.policy === 'open') return open;
      throw new AppError(
        'service_unavailable',
        'Abuse limits cannot be checked right now; try again shortly.',
      );
    }
  }
}
