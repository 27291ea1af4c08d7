// The counters of the SMS-bill protections and the fraud guard's blocks, behind one interface so
// they live in Redis (shared by every replica, one round trip per start) or in memory.
import type { Level } from './prefixes.js';

export type StoreRefusal = 'resend_interval' | 'prefix_limit' | 'fraud_guard' | 'budget';

export interface GuardQuery {
  levels: readonly Level[];
  windowMs: number;
  graceMs: number;
  /** the time buckets starts and approvals are counted in */
  bucketMs: number;
  minConversion: number;
  blockMs: number;
  /** monitor mode: judge and report, refuse nothing */
  enforce: boolean;
}

/** Everything one start must pass after the per-number limit, checked and counted atomically. */
export interface AdmissionQuery {
  now: number;
  /** PHONE_RESEND_INTERVAL for this number, keyed by the number (a store outside the process hashes it) */
  resend?: { key: string; intervalMs: number };
  /** PREFIX_RATE_LIMIT_* for the number's block; absent for safe-listed numbers */
  prefixLimit?: { key: string; max: number; windowMs: number };
  /** absent when the guard is off or the number is safe-listed */
  guard?: GuardQuery;
  budget?: { max: number; windowMs: number };
}

export interface Block {
  prefix: string;
  blockedAt: number;
  until: number;
  /** judged starts and their approvals when the block was set */
  starts: number;
  approvals: number;
}

export interface AdmissionResult {
  refused?: StoreRefusal;
  retryAfterMs?: number;
  /** blocks this start set (in monitor mode: the blocks it would have set) */
  newBlocks: readonly Block[];
  /** monitor mode: this start would have been refused by the guard */
  wouldRefuse: boolean;
}

/** Approvals of one prefix whose starts fell in one bucket. */
export interface Approval {
  prefix: string;
  bucket: number;
  count: number;
}

export interface GuardStore {
  admit(query: AdmissionQuery): Promise<AdmissionResult>;
  /** Counts approvals in the buckets of their starts; a prefix's counts are kept at least keepMs. */
  approve(approvals: Approval[], keepMs: number): Promise<void>;
  blocks(now: number): Promise<Block[]>;
  /** Ends a block and forgets the prefix's counts; undefined when it was not blocked. */
  lift(prefix: string): Promise<Block | undefined>;
}

/**
 * Buckets of about an eighth of the grace (so a start is judged soon after its grace ends), at
 * least 1/256 and at most 1/32 of the window (so a judgement sums a bounded number of them).
 */
export function bucketSizeMs(windowMs: number, graceMs: number): number {
  const fine = graceMs > 0 ? Math.ceil(graceMs / 8) : Math.ceil(windowMs / 32);
  return Math.max(1, Math.ceil(windowMs / 256), Math.min(fine, Math.ceil(windowMs / 32)));
}
