// The GuardStore in this process's memory: for one replica, or while Redis is unreachable.
import { add, emptyCounts, judge, type PrefixCounts } from './guard-judgement.js';
import type { AdmissionQuery, AdmissionResult, Approval, Block, GuardStore } from './guard-store.js';

interface FixedWindow {
  count: number;
  resetAt: number;
}

export class MemoryGuardStore implements GuardStore {
  readonly #counts = new Map<string, PrefixCounts & { expiresAt: number }>();
  readonly #blocks = new Map<string, Block>();
  readonly #wouldBlocks = new Map<string, Block>();
  readonly #windows = new Map<string, FixedWindow>();
  readonly #resends = new Map<string, number>();
  #sweptAt = 0;

  async admit(query: AdmissionQuery): Promise<AdmissionResult> {
    const { now } = query;
    this.#sweep(now);
    const none: AdmissionResult = { newBlocks: [], wouldRefuse: false };
    if (query.resend) {
      const until = this.#resends.get(query.resend.key) ?? 0;
      if (until > now) return { ...none, refused: 'resend_interval', retryAfterMs: until - now };
    }
    if (query.prefixLimit) {
      const window = this.#window(`prefix:${query.prefixLimit.key}`, now);
      if (window && window.count >= query.prefixLimit.max) {
        return { ...none, refused: 'prefix_limit', retryAfterMs: window.resetAt - now };
      }
    }
    let result = none;
    const { guard } = query;
    const keepMs = guard ? guard.windowMs + guard.graceMs + 2 * guard.bucketMs : 0;
    if (guard) {
      const blocks = guard.enforce ? this.#blocks : this.#wouldBlocks;
      const judgement = judge(
        guard,
        now,
        (prefix) => this.#countsOf(prefix, now + keepMs),
        (prefix) => {
          const block = blocks.get(prefix);
          return block && block.until > now ? block.until - now : 0;
        },
        (block) => blocks.set(block.prefix, block),
      );
      result = { newBlocks: judgement.newBlocks, wouldRefuse: false };
      if (judgement.refusedForMs !== undefined) {
        if (guard.enforce) return { ...result, refused: 'fraud_guard', retryAfterMs: judgement.refusedForMs };
        result.wouldRefuse = true;
      }
    }
    if (query.budget) {
      const window = this.#window('budget', now);
      if (window && window.count >= query.budget.max) {
        return { ...result, refused: 'budget', retryAfterMs: window.resetAt - now };
      }
    }
    // Admitted: only now is anything counted, so a refused start counts toward nothing.
    if (query.resend) this.#resends.set(query.resend.key, now + query.resend.intervalMs);
    if (query.prefixLimit) this.#hit(`prefix:${query.prefixLimit.key}`, now, query.prefixLimit.windowMs);
    if (query.budget) this.#hit('budget', now, query.budget.windowMs);
    if (guard) {
      const bucket = Math.floor(now / guard.bucketMs);
      for (const level of guard.levels) add(this.#countsOf(level.prefix, now + keepMs).starts, bucket, 1);
    }
    return result;
  }

  async approve(approvals: Approval[], keepMs: number): Promise<void> {
    const expiresAt = Date.now() + keepMs;
    for (const { prefix, bucket, count } of approvals)
      add(this.#countsOf(prefix, expiresAt).approvals, bucket, count);
  }

  async blocks(now: number): Promise<Block[]> {
    return [...this.#blocks.values()].filter((block) => block.until > now);
  }

  async lift(prefix: string): Promise<Block | undefined> {
    const block = this.#blocks.get(prefix);
    this.#blocks.delete(prefix);
    this.#wouldBlocks.delete(prefix);
    this.#counts.delete(prefix);
    return block && block.until > Date.now() ? block : undefined;
  }

  #countsOf(prefix: string, expiresAt: number): PrefixCounts {
    let counts = this.#counts.get(prefix);
    if (!counts) {
      counts = { ...emptyCounts(), expiresAt };
      this.#counts.set(prefix, counts);
    } else counts.expiresAt = Math.max(counts.expiresAt, expiresAt);
    return counts;
  }

  #window(key: string, now: number): FixedWindow | undefined {
    const window = this.#windows.get(key);
    return window && window.resetAt > now ? window : undefined;
  }

  #hit(key: string, now: number, windowMs: number): void {
    const window = this.#window(key, now);
    if (window) window.count += 1;
    else this.#windows.set(key, { count: 1, resetAt: now + windowMs });
  }

  /** Drops what has expired, at most once a second: memory stays bounded by the traffic of a window. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 1_000) return;
    this.#sweptAt = now;
    for (const [key, counts] of this.#counts) if (counts.expiresAt <= now) this.#counts.delete(key);
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    for (const [key, until] of this.#resends) if (until <= now) this.#resends.delete(key);
    for (const map of [this.#blocks, this.#wouldBlocks]) {
      for (const [key, block] of map) if (block.until <= now) map.delete(key);
    }
  }
}
