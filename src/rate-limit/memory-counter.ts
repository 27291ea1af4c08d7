// Counts in this process's memory: the store without REDIS_URL, and the per-replica fallback while
// Redis is unreachable. Bounded, so a flood of distinct keys cannot grow it without end.
import type { RateCounter, WindowCount } from './counter.js';

interface Window {
  count: number;
  resetAt: number;
}

export class MemoryCounter implements RateCounter {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.maxKeys) this.#evict(now);
      window = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { current: window.count, ttlMs: window.resetAt - now };
  }

  async refund(key: string): Promise<void> {
    const window = this.#windows.get(key);
    if (window && window.resetAt > this.now() && window.count > 0) window.count -= 1;
  }

  /**
   * Drops closed windows, then (still above nine tenths of the bound) the oldest ones: Map keeps
   * insertion order. Making room for a tenth of the bound at once keeps a flood of distinct keys
   * (every start is a new number) at O(1) per key: one pass per maxKeys / 10 new keys, not per key.
   */
  #evict(now: number): void {
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    const keep = Math.floor(this.maxKeys * 0.9);
    for (const key of this.#windows.keys()) {
      if (this.#windows.size <= keep) break;
      this.#windows.delete(key);
    }
  }
}
