// The fixed-window counter behind every rate limit, whatever keeps the counts (Redis or memory).

export interface WindowCount {
  /** hits in the current window, this one included */
  current: number;
  /** milliseconds until the window closes */
  ttlMs: number;
}

export interface RateCounter {
  /** Counts one hit on `key`; the first hit opens a window of `windowMs`. */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** Takes back one hit (work the service failed to do) while its window is still open. */
  refund(key: string): Promise<void>;
}
