// The GuardStore in this process's memory: for one replica, or while Redis is unreachable.
import { ExpirySlots } from './expiry-slots.js';
import { add, judge, NO_BLOCKS, type PrefixCounts } from './guard-judgement.js';
import type {
  AdmissionQuery,
  AdmissionResult,
  Approval,
  Block,
  GuardQuery,
  GuardStore,
  StoreRefusal,
} from './guard-store.js';

interface FixedWindow {
  count: number;
  resetAt: number;
}

export class MemoryGuardStore implements GuardStore {
  readonly #counts = new Map<string, PrefixCounts & { expiresAt: number }>();
  readonly #blocks = new Map<string, Block>();
  readonly #wouldBlocks = new Map<string, Block>();
  /** PREFIX_RATE_LIMIT_* windows by 10,000-number block */
  readonly #prefixWindows = new Map<string, FixedWindow>();
  #budget: FixedWindow | undefined;
  readonly #resends = new Map<string, number>();
  /** when the entries of #counts, #prefixWindows and #resends expire, for #sweep */
  readonly #countsExpiry = new ExpirySlots(this.#counts, (counts) => counts.expiresAt);
  readonly #prefixWindowsExpiry = new ExpirySlots(this.#prefixWindows, (window) => window.resetAt);
  readonly #resendsExpiry = new ExpirySlots(this.#resends, (until) => until);
  #sweptAt = 0;

  async admit(query: AdmissionQuery): Promise<AdmissionResult> {
    const { now, guard } = query;
    this.#sweep(now);
    if (query.resend) {
      const until = this.#resends.get(query.resend.key) ?? 0;
      if (until > now) return refused('resend_interval', until - now, NO_BLOCKS, false);
    }
    if (query.prefixLimit) {
      const window = live(this.#prefixWindows.get(query.prefixLimit.key), now);
      if (window && window.count >= query.prefixLimit.max) {
        return refused('prefix_limit', window.resetAt - now, NO_BLOCKS, false);
      }
    }
    let newBlocks = NO_BLOCKS;
    let wouldRefuse = false;
    // Each level's counts looked up once: the judgement reads them, an admitted start adds to them.
    const levelCounts = guard ? this.#levelCounts(guard, now) : [];
    if (guard) {
      const judgement = judge(guard, now, levelCounts, guard.enforce ? this.#blocks : this.#wouldBlocks);
      newBlocks = judgement.newBlocks;
      if (judgement.refusedForMs !== undefined) {
        if (guard.enforce) return refused('fraud_guard', judgement.refusedForMs, newBlocks, false);
        wouldRefuse = true;
      }
    }
    if (query.budget) {
      const window = live(this.#budget, now);
      if (window && window.count >= query.budget.max) {
        return refused('budget', window.resetAt - now, newBlocks, wouldRefuse);
      }
    }
    // Admitted: only now is anything counted, so a refused start counts toward nothing.
    if (query.resend) {
      const { key, intervalMs } = query.resend;
      this.#resendsExpiry.expires(key, now + intervalMs, this.#resends.get(key));
      this.#resends.set(key, now + intervalMs);
    }
    if (query.prefixLimit) {
      const { key, windowMs } = query.prefixLimit;
      const before = this.#prefixWindows.get(key);
      const window = counted(before, now, windowMs);
      if (window !== before) this.#prefixWindowsExpiry.expires(key, window.resetAt);
      this.#prefixWindows.set(key, window);
    }
    if (query.budget) this.#budget = counted(this.#budget, now, query.budget.windowMs);
    if (guard) {
      const bucket = Math.floor(now / guard.bucketMs);
      for (const counts of levelCounts) add(counts, 'starts', bucket, 1);
    }
    return { newBlocks, wouldRefuse };
  }

  async approve(approvals: Approval[], keepMs: number): Promise<void> {
    const expiresAt = Date.now() + keepMs;
    for (const { prefix, bucket, count } of approvals)
      add(this.#countsOf(prefix, expiresAt), 'approvals', bucket, count);
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

  /** The counts of the guard's levels, in their order; each is kept until the window has passed. */
  #levelCounts(guard: GuardQuery, now: number): PrefixCounts[] {
    const expiresAt = now + guard.windowMs + guard.graceMs + 2 * guard.bucketMs;
    const counts: PrefixCounts[] = [];
    for (const level of guard.levels) counts.push(this.#countsOf(level.prefix, expiresAt));
    return counts;
  }

  #countsOf(prefix: string, expiresAt: number): PrefixCounts {
    const counts = this.#counts.get(prefix);
    if (counts === undefined) {
      // Every field from the start: all counts share one shape, so reading them stays monomorphic.
      const created = {
        expiresAt,
        starts: undefined,
        approvals: undefined,
        excludedStarts: undefined,
        excludedApprovals: undefined,
      };
      this.#counts.set(prefix, created);
      this.#countsExpiry.expires(prefix, expiresAt);
      return created;
    }
    if (expiresAt > counts.expiresAt) {
      this.#countsExpiry.expires(prefix, expiresAt, counts.expiresAt);
      counts.expiresAt = expiresAt;
    }
    return counts;
  }

  /** Drops what has expired, at most once a second: memory stays bounded by the traffic of a window. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 1_000) return;
    this.#sweptAt = now;
    // Only the keys due by now are looked at, not every key.
    this.#countsExpiry.sweep(now);
    this.#prefixWindowsExpiry.sweep(now);
    this.#resendsExpiry.sweep(now);
    // Blocks are few (each lasts FRAUD_GUARD_BLOCK): scanned.
    for (const map of [this.#blocks, this.#wouldBlocks]) {
      for (const [key, block] of map) if (block.until <= now) map.delete(key);
    }
  }
}

/** A refused start's answer (the blocks it set still reported). */
function refused(
  reason: StoreRefusal,
  retryAfterMs: number,
  newBlocks: readonly Block[],
  wouldRefuse: boolean,
): AdmissionResult {
  return { newBlocks, wouldRefuse, refused: reason, retryAfterMs };
}

/** The window counted once more, or a new one from now when it has ended. */
function counted(window: FixedWindow | undefined, now: number, windowMs: number): FixedWindow {
  const running = live(window, now);
  if (!running) return { count: 1, resetAt: now + windowMs };
  running.count += 1;
  return running;
}

/** The window while it runs; undefined once it has ended (the next count starts a new one). */
function live(window: FixedWindow | undefined, now: number): FixedWindow | undefined {
  return window && window.resetAt > now ? window : undefined;
}
