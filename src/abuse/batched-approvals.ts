// Approvals reach a shared store (Redis) in batches: every verify that approves a session would
// otherwise cost one more round trip and one more script run, and the guard only needs them before
// its grace ends (FRAUD_GUARD_GRACE, minutes), not within the verify. The approvals of one batch
// interval go out as one call, counts of one prefix and bucket merged. A replica that dies loses
// at most one interval's approvals: the guard then sees a few conversions fewer, never more.
import type { AdmissionQuery, AdmissionResult, Approval, Block, GuardStore } from './guard-store.js';

/** Milliseconds approvals wait to be sent together. */
export const APPROVAL_BATCH_MS = 50;

/**
 * The batch interval for a FRAUD_GUARD_GRACE: 50 ms, or a twentieth of a shorter grace, so an
 * approval is always counted long before its start is judged.
 */
export function approvalBatchMs(graceMs: number): number {
  return Math.min(APPROVAL_BATCH_MS, Math.floor(graceMs / 20));
}

export interface BatchLogger {
  error(object: object, message: string): void;
}

export class BatchedApprovals implements GuardStore {
  #pending = new Map<string, Approval>();
  #keepMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: GuardStore,
    private readonly log: BatchLogger,
    private readonly intervalMs = APPROVAL_BATCH_MS,
  ) {}

  admit(query: AdmissionQuery): Promise<AdmissionResult> {
    return this.store.admit(query);
  }

  /** Queues the approvals; they are sent within the batch interval (or by flush()). */
  async approve(approvals: Approval[], keepMs: number): Promise<void> {
    for (const approval of approvals) {
      const key = `${approval.prefix} ${approval.bucket}`;
      const queued = this.#pending.get(key);
      if (queued) queued.count += approval.count;
      else this.#pending.set(key, { ...approval });
    }
    this.#keepMs = Math.max(this.#keepMs, keepMs);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.#timer.unref();
    }
  }

  blocks(now: number): Promise<Block[]> {
    return this.store.blocks(now);
  }

  lift(prefix: string): Promise<Block | undefined> {
    return this.store.lift(prefix);
  }

  /** Sends what is queued now; resolves when it (and any batch before it) has been answered. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const approvals = [...this.#pending.values()];
    const keepMs = this.#keepMs;
    this.#pending = new Map();
    this.#keepMs = 0;
    if (approvals.length > 0) {
      this.#sending = this.#sending.then(() =>
        this.store.approve(approvals, keepMs).catch((error: Error) => {
          this.log.error(
            { err: { message: error.message }, approvals: approvals.length },
            'fraud guard: approvals not counted',
          );
        }),
      );
    }
    return this.#sending;
  }
}
