// `npm run bench`: starts the real service (node dist/server.js, production, info logging) with a
// backend that sends nothing, on a temp SQLite file (and on PostgreSQL when BENCH_DATABASE_URL is
// set), drives POST /v1/verifications and POST /v1/verifications/verify with autocannon, prints a
// table and one JSON line, and leaves nothing running. Flags: see USAGE.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addOldSessions, addSessionPool, addTwilioService, BENCH_CODE, createDatabase } from './database.mjs';
import { runPhase } from './load.mjs';
import { validPhoneNumbers } from './numbers.mjs';
import { ensureBuilt, startService, stopAllServices, writeNullSender } from './service.mjs';

const USAGE = `usage: npm run bench -- [options]
  --duration S      measured seconds per phase (default 10)
  --warmup S        warm-up seconds per phase, not counted (default 3)
  --connections N   concurrent connections (default 50)
  --db KIND         sqlite | postgresql (default: sqlite, plus postgresql when BENCH_DATABASE_URL is set)
  --rows N[,M…]     first fill the table with N old sessions (default 0); with a list, one run per
                    count, and the growth of verify p50 from the first count to the last
  --phases LIST     start,verify,v2start,v2check (default all: /v1 start and verify, then Twilio
                    Verify v2's start and VerificationCheck on /v2)
  --backend NAME    null (a plugin that sends nothing; default) | console (built in; logs each message)
  --cpu-prof DIR    run the service with --cpu-prof, writing the profile into DIR
BENCH_DATABASE_URL: a PostgreSQL URL whose user may CREATE DATABASE; a fresh database is created
under it for the run and dropped after.`;

/** Upper bounds of the rates this machine can reach, to size the number list and the session pool. */
const MAX_START_RATE = 12_000;
const MAX_VERIFY_RATE = 20_000;
const POOL_NUMBERS = 20_000;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    db: { type: 'string' },
    rows: { type: 'string', default: '0' },
    phases: { type: 'string', default: 'start,verify,v2start,v2check' },
    backend: { type: 'string', default: 'null' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

function count(name, min) {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) {
    console.error(
      `--${name}: expected a whole number ≥ ${min} (got ${JSON.stringify(flags[name])})\n${USAGE}`,
    );
    process.exit(2);
  }
  return value;
}

const duration = count('duration', 1);
const warmup = count('warmup', 0);
const connections = count('connections', 1);
const rowCounts = flags.rows.split(',').map((value) => {
  const rows = Number(value);
  if (!Number.isInteger(rows) || rows < 0) {
    console.error(`--rows: expected whole numbers ≥ 0 (got ${JSON.stringify(flags.rows)})\n${USAGE}`);
    process.exit(2);
  }
  return rows;
});
const phases = flags.phases.split(',').map((p) => p.trim());
const adminUrl = process.env.BENCH_DATABASE_URL;
const kinds = flags.db ? [flags.db] : adminUrl ? ['sqlite', 'postgresql'] : ['sqlite'];
for (const kind of kinds) {
  if (kind !== 'sqlite' && kind !== 'postgresql') {
    console.error(`--db: expected sqlite or postgresql (got ${JSON.stringify(kind)})`);
    process.exit(2);
  }
  if (kind === 'postgresql' && !adminUrl) {
    console.error('--db postgresql needs BENCH_DATABASE_URL (a PostgreSQL URL allowed to CREATE DATABASE)');
    process.exit(2);
  }
}
if (
  !['null', 'console'].includes(flags.backend) ||
  phases.some((p) => !['start', 'verify', 'v2start', 'v2check'].includes(p))
) {
  console.error(USAGE);
  process.exit(2);
}

const log = (message) => process.stderr.write(`bench: ${message}\n`);
const tempDir = mkdtempSync(join(tmpdir(), 'pv-bench-'));
const pluginsDir = join(tempDir, 'plugins');
mkdirSync(pluginsDir);
let database;
// With REDIS_URL the run's counters and fraud-guard state live under a key prefix of its own:
// another run's starts, never verified, would otherwise be judged by this run's guard and blocked.
const redisKeyPrefix = `pv-bench-${process.pid}-${Date.now()}:`;

async function cleanUp() {
  await stopAllServices();
  await dropRedisKeys().catch((error) => log(`could not remove the bench's Redis keys: ${error.message}`));
  await database?.drop().catch((error) => log(`could not drop the bench database: ${error.message}`));
  database = undefined;
  rmSync(tempDir, { recursive: true, force: true });
}

async function dropRedisKeys() {
  if (!process.env.REDIS_URL) return;
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisKeyPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

process.once('SIGINT', () => {
  log('interrupted: stopping the service');
  cleanUp().finally(() => process.exit(130));
});

async function benchDatabase(kind, rows, startNumbers, poolNumbers) {
  database = await createDatabase(kind, tempDir, adminUrl);
  if (rows > 0) {
    const started = Date.now();
    await addOldSessions(database, rows);
    log(`${kind}: ${rows} old sessions added in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const verifyBodies = phases.includes('verify')
    ? await addSessionPool(database, (warmup + duration) * MAX_VERIFY_RATE, poolNumbers)
    : [];
  const twilioService = phases.some((p) => p.startsWith('v2')) ? await addTwilioService(database) : undefined;
  const checkBodies = phases.includes('v2check')
    ? await addSessionPool(database, (warmup + duration) * MAX_VERIFY_RATE, poolNumbers, twilioService)
    : [];

  const backendEnv =
    flags.backend === 'null'
      ? { PHONE_VERIFICATION_BACKEND: writeNullSender(pluginsDir, BENCH_CODE), PLUGINS_DIR: pluginsDir }
      : { PHONE_VERIFICATION_BACKEND: 'console' };
  const nodeArgs = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']] : [];
  const service = await startService({
    nodeArgs,
    logFile: join(tempDir, `${kind}.log`),
    env: {
      ...backendEnv,
      DATABASE_URL: database.url,
      LOG_LEVEL: 'info',
      // The per-client, per-number and per-prefix limits would answer 429 to a load generator on
      // one address starting few ranges; the other protections stay on at their defaults (the
      // fraud guard judges nothing within a phase shorter than its 2-minute grace, but counts every
      // start), and an SMS budget no phase reaches is set so its counting is measured too.
      RATE_LIMIT_MAX: '1000000000',
      PHONE_RATE_LIMIT_MAX: '1000000000',
      PREFIX_RATE_LIMIT_MAX: '1000000000',
      SMS_BUDGET_MAX: '1000000000',
      PHONE_RESEND_INTERVAL: '1 second',
      REDIS_KEY_PREFIX: `${redisKeyPrefix}${kind}-${rows}:`,
    },
  });

  const results = [];
  const common = { service, connections, duration, warmup };
  if (phases.includes('start')) {
    const bodies = startNumbers.map((n) => `{"phone_number":"${n}"}`);
    results.push(await runPhase({ ...common, name: 'start', path: '/v1/verifications', bodies }));
  }
  if (phases.includes('verify')) {
    results.push(
      await runPhase({ ...common, name: 'verify', path: '/v1/verifications/verify', bodies: verifyBodies }),
    );
  }
  const form = 'application/x-www-form-urlencoded';
  if (phases.includes('v2start')) {
    // The same numbers as /v1's starts, in another service: each is one send to its number there.
    const bodies = startNumbers.map((n) => `To=${encodeURIComponent(n)}&Channel=sms`);
    const path = `/v2/Services/${twilioService}/Verifications`;
    results.push(await runPhase({ ...common, name: 'v2start', path, bodies, contentType: form }));
  }
  if (phases.includes('v2check')) {
    const path = `/v2/Services/${twilioService}/VerificationCheck`;
    results.push(
      await runPhase({ ...common, name: 'v2check', path, bodies: checkBodies, contentType: form }),
    );
  }
  await service.stop();
  await database.drop();
  database = undefined;
  return results.map((r) => ({ db: kind, rows, ...r }));
}

const ms = (value) => (value === null ? '-' : value.toFixed(1));

function printTable(results) {
  const header = ['db', 'rows', 'phase', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'RSS MB', 'CPU ms/req'];
  const lines = results.map((r) =>
    [
      r.db,
      r.rows,
      r.phase,
      r.reqPerSec,
      ms(r.p50Ms),
      ms(r.p99Ms),
      r.non2xx + r.errors,
      r.rssMb,
      r.cpuMsPerReq,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) =>
    cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

try {
  ensureBuilt(log);
  // Starts each get a number of their own; the pool's numbers are apart from them (a start would
  // cancel a pool session of its number) and shared by several pool sessions each.
  const starts =
    phases.includes('start') || phases.includes('v2start') ? (warmup + duration) * MAX_START_RATE : 0;
  log(`generating ${starts + POOL_NUMBERS} valid phone numbers`);
  const numbers = validPhoneNumbers(starts + POOL_NUMBERS);
  const [startNumbers, poolNumbers] = [numbers.slice(0, starts), numbers.slice(starts)];
  const results = [];
  for (const kind of kinds) {
    for (const rows of rowCounts) {
      log(
        `${kind}: ${phases.join(' + ')}, ${connections} connections, ${warmup} s warm-up + ${duration} s each`,
      );
      results.push(...(await benchDatabase(kind, rows, startNumbers, poolNumbers)));
    }
  }
  for (const r of results) {
    if (r.wrapped) log(`${r.db} ${r.phase}: ran out of distinct request bodies and reused some`);
  }
  printTable(results);
  if (rowCounts.length > 1) {
    const [fewest, most] = [rowCounts[0], rowCounts.at(-1)];
    for (const kind of kinds) {
      const p50 = (rows) =>
        results.find((r) => r.db === kind && r.rows === rows && r.phase === 'verify')?.p50Ms;
      if (p50(fewest) && p50(most)) {
        console.log(
          `${kind}: verify p50 with ${most} rows is ${(p50(most) / p50(fewest)).toFixed(2)}× that with ${fewest}`,
        );
      }
    }
  }
  console.log(
    JSON.stringify({
      bench: 'phone-verify',
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      connections,
      duration,
      warmup,
      rows: rowCounts,
      backend: flags.backend,
      results,
    }),
  );
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  log(message);
  if (flags.backend === 'null' && /unknown backend/.test(message)) {
    log('this build cannot load plugin backends from PLUGINS_DIR: try --backend console');
  }
  process.exitCode = 1;
} finally {
  await cleanUp();
}
