// The entries of a map dropped when they expire, visiting only those whose time has come: the
// keys are noted in one-second slots of their expiry. The memory guard store's maps hold a
// window's worth of prefixes (FRAUD_GUARD_WINDOW and PREFIX_RATE_LIMIT_WINDOW: an hour of distinct
// 10,000-number blocks, hundreds of thousands); scanning them all every second cost, per start,
// about one entry per second of the window.

const SLOT_MS = 1_000;

function slotOf(expiresAt: number): number {
  return Math.ceil(expiresAt / SLOT_MS);
}

export class ExpirySlots<V> {
  /** by slot, the keys that expire within it (a key whose expiry moved on is also in a later slot) */
  readonly #slots = new Map<number, string[]>();

  /** `expiryOf` reads an entry's own expiry, which decides whether a due key is dropped. */
  constructor(
    private readonly map: Map<string, V>,
    private readonly expiryOf: (value: V) => number,
  ) {}

  /**
   * `key` now expires at `expiresAt` (before at `before`; undefined for a new key). Noted only when
   * that is a later slot: a hot prefix is noted about once a second, not once a start.
   */
  expires(key: string, expiresAt: number, before?: number): void {
    const slot = slotOf(expiresAt);
    if (before !== undefined && slotOf(before) === slot) return;
    const keys = this.#slots.get(slot);
    if (keys === undefined) this.#slots.set(slot, [key]);
    else keys.push(key);
  }

  /**
   * Drops the entries of the slots that have ended by `now` whose own expiry has passed (a key
   * noted again for later stays), and forgets those slots.
   */
  sweep(now: number): void {
    for (const [slot, keys] of this.#slots) {
      if (slot * SLOT_MS > now) continue;
      this.#slots.delete(slot);
      for (const key of keys) {
        const value = this.map.get(key);
        if (value !== undefined && this.expiryOf(value) <= now) this.map.delete(key);
      }
    }
  }
}
