// The fraud guard's per-start CPU cost in process: Admission + MemoryGuardStore, without HTTP or a
// database, so a change to src/abuse/ can be measured in nanoseconds per start.
//
//   npm run build && node --max-semi-space-size=64 bench/guard-micro.mjs [dist dir] [starts] [ms per start]
//
// The settings are the defaults with the limits bench/run.mjs lifts (a load generator would hit
// them), so this is the path its profile shows. Every start is a distinct valid number (the numbers
// bench/numbers.mjs makes); one in three is approved 2,000 starts later, as a verify would. The
// clock advances 1 ms per start (or as told), so the last two fifths of the starts are judged (past
// the grace); 72 ms per start over 50,000 starts fills the guard's hour-long window.
// Prints ns per start, wall and CPU (the medians of three timed passes), and bytes allocated per
// start (a second pass, over chunks in which no garbage collection ran), plus the outcome counts,
// which must not change between builds.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validPhoneNumbers } from './numbers.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const starts = Number(process.argv[3] ?? 200_000);
const stepMs = Number(process.argv[4] ?? 1);
const load = (path) => import(pathToFileURL(resolve(dist, path)).href);
const { loadConfig } = await load('config.js');
const { Admission } = await load('abuse/admission.js');
const { MemoryGuardStore } = await load('abuse/memory-guard-store.js');
const { numberFacts, rememberNumberFacts } = await load('abuse/number-facts.js');

const APPROVE_EVERY = 3;
const APPROVE_AFTER = 2_000;
const CHUNK = 1_000;

const numbers = validPhoneNumbers(starts);
// The parser's facts of each number; parseE164 leaves a new copy before each start and verify
// (parsing itself is not measured here).
const facts = numbers.map((e164) => {
  const { country, callingCode, type } = numberFacts(e164);
  return { country, callingCode, type };
});
const parsed = (i) => {
  const { country, callingCode, type } = facts[i];
  rememberNumberFacts(numbers[i], { country, callingCode, type });
};
const config = loadConfig({
  PREFIX_RATE_LIMIT_MAX: '1000000000',
  SMS_BUDGET_MAX: '1000000000',
  PHONE_RESEND_INTERVAL: '1 second',
});
const silent = { warn() {}, info() {}, error() {} };

/** One pass over every number; `chunkDone(i)` runs after each CHUNK starts. */
async function pass(chunkDone) {
  let now = 1_800_000_000_000;
  const admission = new Admission(config, new MemoryGuardStore(), silent, {}, () => now);
  const outcome = { admitted: 0, refused: 0 };
  for (let i = 0; i < numbers.length; i++) {
    now += stepMs;
    parsed(i);
    try {
      await admission.admit(numbers[i]);
      outcome.admitted++;
    } catch {
      outcome.refused++;
    }
    const approved = i - APPROVE_AFTER;
    if (approved >= 0 && approved % APPROVE_EVERY === 0) {
      parsed(approved);
      await admission.approved(numbers[approved], new Date(now - APPROVE_AFTER));
    }
    if ((i + 1) % CHUNK === 0) chunkDone?.(i);
  }
  outcome.blocks = (await admission.blocks()).length;
  return outcome;
}

// Warm-up, so both builds are measured optimised.
await pass();

// Three timed passes; their median is reported (a busy machine slows one now and then).
// CPU time (every thread of the process, the collector's too) as well as wall time: on a shared
// machine the wall time also counts the time other processes had the CPU.
const wall = [];
const cpu = [];
let outcome;
for (let run = 0; run < 3; run++) {
  const began = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  outcome = await pass();
  const used = process.cpuUsage(cpuBefore);
  wall.push(Number(process.hrtime.bigint() - began) / numbers.length);
  cpu.push(((used.user + used.system) * 1000) / numbers.length);
}
const median = (values) => Math.round(values.sort((a, b) => a - b)[1]);

// Bytes per start: heap growth over chunks without a collection (a collection shrinks the heap).
let before = process.memoryUsage().heapUsed;
let bytes = 0;
let measured = 0;
await pass(() => {
  const after = process.memoryUsage().heapUsed;
  if (after >= before) {
    bytes += after - before;
    measured += CHUNK;
  }
  before = process.memoryUsage().heapUsed;
});

console.log(
  JSON.stringify({
    dist,
    starts: numbers.length,
    nsPerStart: median(wall),
    cpuNsPerStart: median(cpu),
    bytesPerStart: measured > 0 ? Math.round(bytes / measured) : null,
    chunksMeasured: measured / CHUNK,
    ...outcome,
  }),
);
