// The fraud guard's judgement of one start, over the counts of its prefixes (the memory store runs
// it; redis-guard-script.ts is the same steps in Lua, run inside Redis).
//
// For each level, narrowest first: judged starts S and approvals A are those in buckets whose
// grace has passed, within the window, less what narrower blocks already took out (a blocked
// range's starts must not also condemn the country around it). A level with S ≥ its minStarts and
// A < minConversion × S is blocked. A start is refused when one of its levels is blocked, unless a
// narrower level of the same number converts (A ≥ 1 and A ≥ minConversion × S): people who type
// their codes vouch for their own prefix inside a wider block.
//
// It runs on every start, so it allocates nothing unless it sets a block: sums are plain numbers,
// the levels' counts come by index, and a start that sets no block shares NO_BLOCKS.
import type { Block, GuardQuery } from './guard-store.js';

/**
 * One prefix's counts: per bucket started and approved, and excluded (taken out by narrower
 * blocks). Each map is made when first counted in: most prefixes of a window (10,000-number blocks
 * seen once or twice) only ever have starts.
 */
export interface PrefixCounts {
  starts?: Map<number, number>;
  approvals?: Map<number, number>;
  excludedStarts?: Map<number, number>;
  excludedApprovals?: Map<number, number>;
}

export type CountKind = keyof PrefixCounts;

/** The new blocks of a start that set none: shared, never written. */
export const NO_BLOCKS: readonly Block[] = Object.freeze([]);

export interface Judgement {
  newBlocks: readonly Block[];
  /** milliseconds until the block that refuses this start ends; undefined when none does */
  refusedForMs: number | undefined;
}

/**
 * The counts of `map` in buckets `first` to `last`. Buckets before `first` have left the window:
 * they are dropped on the way, which keeps each map to a window's buckets.
 */
function total(map: Map<number, number> | undefined, first: number, last: number): number {
  if (map === undefined) return 0;
  let sum = 0;
  for (const [bucket, count] of map) {
    if (bucket < first) map.delete(bucket);
    else if (bucket <= last) sum += count;
  }
  return sum;
}

/** The milliseconds the block of `prefix` has left; 0 when there is none. */
function blockedForMs(blocks: Map<string, Block>, prefix: string, now: number): number {
  // Most starts meet no block at all: no lookup then.
  if (blocks.size === 0) return 0;
  const block = blocks.get(prefix);
  return block && block.until > now ? block.until - now : 0;
}

/**
 * Judges one start. `levelCounts[i]` are the counts of `query.levels[i]`; `blocks` holds the blocks
 * in force by prefix (in monitor mode the blocks that would be), and gets the new ones.
 */
export function judge(
  query: GuardQuery,
  now: number,
  levelCounts: readonly PrefixCounts[],
  blocks: Map<string, Block>,
): Judgement {
  const { levels, bucketMs, minConversion } = query;
  const first = Math.floor((now - query.windowMs) / bucketMs);
  const lastJudged = Math.floor((now - query.graceMs) / bucketMs) - 1;
  let newBlocks = NO_BLOCKS;
  let vouched = false;
  let refusedForMs: number | undefined;
  for (let index = 0; index < levels.length; index++) {
    const level = levels[index]!;
    const counts = levelCounts[index]!;
    // What narrower blocks took out is taken from every bucket of the window, judged or not.
    const excludedStarts = total(counts.excludedStarts, first, Number.POSITIVE_INFINITY);
    const excludedApprovals = total(counts.excludedApprovals, first, Number.POSITIVE_INFINITY);
    const judgedStarts = Math.max(0, total(counts.starts, first, lastJudged) - excludedStarts);
    const judgedApprovals = Math.max(0, total(counts.approvals, first, lastJudged) - excludedApprovals);
    let left = blockedForMs(blocks, level.prefix, now);
    if (left <= 0 && judgedStarts >= level.minStarts && judgedApprovals < minConversion * judgedStarts) {
      const block = {
        prefix: level.prefix,
        blockedAt: now,
        until: now + query.blockMs,
        starts: judgedStarts,
        approvals: judgedApprovals,
      };
      blocks.set(block.prefix, block);
      newBlocks = [...newBlocks, block];
      left = query.blockMs;
      // All the blocked level's starts and approvals of the window leave every wider level.
      const allStarts = Math.max(0, total(counts.starts, first, Number.POSITIVE_INFINITY) - excludedStarts);
      const allApprovals = Math.max(
        0,
        total(counts.approvals, first, Number.POSITIVE_INFINITY) - excludedApprovals,
      );
      const current = Math.floor(now / bucketMs);
      for (const wider of levelCounts.slice(index + 1)) {
        add(wider, 'excludedStarts', current, allStarts);
        add(wider, 'excludedApprovals', current, allApprovals);
      }
    }
    if (left > 0 && !vouched) refusedForMs = Math.max(refusedForMs ?? 0, left);
    if (judgedApprovals >= 1 && judgedApprovals >= minConversion * judgedStarts) vouched = true;
  }
  return { newBlocks, refusedForMs };
}

export function add(counts: PrefixCounts, kind: CountKind, bucket: number, count: number): void {
  if (count <= 0) return;
  const map = counts[kind];
  if (map === undefined) counts[kind] = new Map<number, number>().set(bucket, count);
  else map.set(bucket, (map.get(bucket) ?? 0) + count);
}
