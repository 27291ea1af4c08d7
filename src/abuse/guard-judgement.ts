// The fraud guard's judgement of one start, over the counts of its prefixes (the memory store runs
// it; redis-guard-script.ts is the same steps in Lua, run inside Redis).
//
// For each level, narrowest first: judged starts S and approvals A are those in buckets whose
// grace has passed, within the window, less what narrower blocks already took out (a blocked
// range's starts must not also condemn the country around it). A level with S ≥ its minStarts and
// A < minConversion × S is blocked. A start is refused when one of its levels is blocked, unless a
// narrower level of the same number converts (A ≥ 1 and A ≥ minConversion × S): people who type
// their codes vouch for their own prefix inside a wider block.
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

interface Sums {
  judgedStarts: number;
  judgedApprovals: number;
  allStarts: number;
  allApprovals: number;
}

/** The counts of `map` from bucket `first` on, up to `lastJudged` and in all; older buckets are dropped. */
function sum(
  map: Map<number, number> | undefined,
  first: number,
  lastJudged: number,
): { judged: number; all: number } {
  let judged = 0;
  let all = 0;
  if (map === undefined) return { judged, all };
  for (const [bucket, count] of map) {
    if (bucket < first) {
      map.delete(bucket);
      continue;
    }
    all += count;
    if (bucket <= lastJudged) judged += count;
  }
  return { judged, all };
}

function sums(counts: PrefixCounts, first: number, lastJudged: number): Sums {
  const excludedStarts = sum(counts.excludedStarts, first, first).all;
  const excludedApprovals = sum(counts.excludedApprovals, first, first).all;
  const starts = sum(counts.starts, first, lastJudged);
  const approvals = sum(counts.approvals, first, lastJudged);
  return {
    judgedStarts: Math.max(0, starts.judged - excludedStarts),
    judgedApprovals: Math.max(0, approvals.judged - excludedApprovals),
    allStarts: Math.max(0, starts.all - excludedStarts),
    allApprovals: Math.max(0, approvals.all - excludedApprovals),
  };
}

export interface Judgement {
  newBlocks: Block[];
  /** milliseconds until the block that refuses this start ends; undefined when none does */
  refusedForMs: number | undefined;
}

/**
 * Judges one start. `counts(prefix)` gives a level's counts (created empty); `blockedForMs(prefix)`
 * the milliseconds its block has left (0 when none); `setBlock` records a new block.
 */
export function judge(
  query: GuardQuery,
  now: number,
  counts: (prefix: string) => PrefixCounts,
  blockedForMs: (prefix: string) => number,
  setBlock: (block: Block) => void,
): Judgement {
  const { bucketMs, minConversion } = query;
  const first = Math.floor((now - query.windowMs) / bucketMs);
  const lastJudged = Math.floor((now - query.graceMs) / bucketMs) - 1;
  const current = Math.floor(now / bucketMs);
  const newBlocks: Block[] = [];
  let vouched = false;
  let refusedForMs: number | undefined;
  query.levels.forEach((level, index) => {
    const levelCounts = counts(level.prefix);
    const s = sums(levelCounts, first, lastJudged);
    let left = blockedForMs(level.prefix);
    if (
      left <= 0 &&
      s.judgedStarts >= level.minStarts &&
      s.judgedApprovals < minConversion * s.judgedStarts
    ) {
      const block = {
        prefix: level.prefix,
        blockedAt: now,
        until: now + query.blockMs,
        starts: s.judgedStarts,
        approvals: s.judgedApprovals,
      };
      setBlock(block);
      newBlocks.push(block);
      left = query.blockMs;
      for (const wider of query.levels.slice(index + 1)) {
        const widerCounts = counts(wider.prefix);
        add(widerCounts, 'excludedStarts', current, s.allStarts);
        add(widerCounts, 'excludedApprovals', current, s.allApprovals);
      }
    }
    if (left > 0 && !vouched) refusedForMs = Math.max(refusedForMs ?? 0, left);
    if (s.judgedApprovals >= 1 && s.judgedApprovals >= minConversion * s.judgedStarts) vouched = true;
  });
  return { newBlocks, refusedForMs };
}

export function add(counts: PrefixCounts, kind: CountKind, bucket: number, count: number): void {
  if (count <= 0) return;
  const map = counts[kind];
  if (map === undefined) counts[kind] = new Map([[bucket, count]]);
  else map.set(bucket, (map.get(bucket) ?? 0) + count);
}
