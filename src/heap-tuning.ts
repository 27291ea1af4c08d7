// How far V8 lets the heap grow between full garbage collections. When collecting is cheap, V8
// lets the old generation reach up to four times what survived the last full collection; under the
// benchmark's load that was ~30 MB live in a heap grown to 70 MB, and server RSS peaks of 181–192 MB
// against the 200 MB budget of README "Performance". Growing by 30 % instead takes about five more
// full collections per 25 s of load (~15 ms each, well under 1 % of a core) and peaked at
// 139–168 MB, with no change in req/s.
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
 * once the process runs takes effect from the next one (measured on Node.js 20 and 22).
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of heapFlags(execArgv)) setFlagsFromString(flag);
}
