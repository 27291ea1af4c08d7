// How far V8 lets the heap grow between full garbage collections. When collecting is cheap, V8
// lets the old generation reach up to four times what survived the last full collection, so under
// load the heap, and the RSS with it, grows far past what the live data needs. Growing by 30 %
// instead costs a few more full collections (well under 1 % of a core) for a lower peak RSS, with
// no change in req/s (docs/operations.md, "Memory"; `npm run bench` shows the RSS).
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth allowed past the live heap before the next full collection, in percent. */
export const HEAP_GROWING_PERCENT = 30;

const GROWING_FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/** The V8 flags to set at start: none the operator already gave (`node --heap-growing-percent=N …`). */
export function heapFlags(execArgv: readonly string[]): string[] {
  if (execArgv.some((arg) => GROWING_FLAG.test(arg))) return [];
  return [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

/**
 * Applies heapFlags() to this process. V8 reads this flag at every full collection, so setting it
 * once the process runs takes effect from the next one (on Node.js 20 and 22 alike).
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of heapFlags(execArgv)) setFlagsFromString(flag);
}
