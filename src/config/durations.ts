// Durations as the settings write them: milliseconds ("60000") or "N second(s)/minute(s)/hour(s)/day(s)".

const UNIT_MS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The accepted forms, as refusals and the documentation name them. */
export const DURATION_SYNTAX = 'milliseconds or "N second(s)/minute(s)/hour(s)/day(s)"';

/** A positive duration in milliseconds, or undefined for anything else ("0" included). */
export function parseWindow(raw: string): number | undefined {
  const value = raw.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value) > 0 ? Number(value) : undefined;
  const match = /^(\d+)\s*(second|minute|hour|day)s?$/.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  return amount > 0 ? amount * UNIT_MS[match[2]!]! : undefined;
}

/** The largest whole unit of `ms` as a person writes it: 100 ms, 10 minutes, 1 day. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of Object.entries(UNIT_MS).reverse()) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}
