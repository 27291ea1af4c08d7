// `npm run bench:fraud`: the fraud guard against SMS pumping, simulated in scaled time against the
// real service (node dist/server.js). Real users in many prefixes of ten countries type their codes
// after a realistic delay while two attacks run for 20 seconds: a concentrated one (100 blocks of
// 10,000 numbers of one range) and a thin one (no block started twice). The guard's windows are
// divided by --scale (one real hour = 60 bench seconds by default); its thresholds stay at their
// defaults. Messages go through a plugin backend that hands them to a recorder in this process, so
// the bench counts what was really sent and learns the codes real users type. It prints what the
// issue measures and exits 1 when a target is missed.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDatabase } from './database.mjs';
import { numberSource, realUserCountry, seededRandom } from './fraud-traffic.mjs';
import { ensureBuilt, startService, stopAllServices } from './service.mjs';

const USAGE = `usage: npm run bench:fraud -- [options]
  --seed N            PRNG seed (default 1); one seed gives one traffic, so runs are comparable
  --scale N           real seconds per bench second (default 60: the guard's 1-hour window is 60 s)
  --users N           real users' starts per real hour (default 1200)
  --attack-rate N     starts per real hour of each attack (default 1500)
  --attack S          bench seconds the attacks last (default 20)
  --attacks LIST      concentrated,thin (default both)
  --db KIND           sqlite (default) | postgresql (needs BENCH_DATABASE_URL)
  --replicas N        services sharing the database and REDIS_URL (default 1; more need REDIS_URL);
                      starts go round-robin and each code is typed on another replica than its start
  --log FILE          keep the services' log in FILE
Targets (exit 1 when one is missed): >= 95 % of attack starts stopped once the guard engaged,
<= 50 % of attack starts sent over the attack, real users refused <= 1 % (the aim is 0).`;

const { values: flags } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: '60' },
    users: { type: 'string', default: '1200' },
    'attack-rate': { type: 'string', default: '1500' },
    attack: { type: 'string', default: '20' },
    attacks: { type: 'string', default: 'concentrated,thin' },
    db: { type: 'string', default: 'sqlite' },
    replicas: { type: 'string', default: '1' },
    log: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

function usageError(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function positive(name) {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value <= 0) {
    usageError(`--${name}: expected a number > 0 (got ${JSON.stringify(flags[name])})`);
  }
  return value;
}

const seed = positive('seed');
const scale = positive('scale');
const userRate = positive('users');
const attackRate = positive('attack-rate');
const attackSeconds = positive('attack');
const replicas = positive('replicas');
const shapes = flags.attacks.split(',').map((s) => s.trim());
if (shapes.some((s) => s !== 'concentrated' && s !== 'thin')) {
  usageError(`--attacks: expected concentrated and/or thin (got ${JSON.stringify(flags.attacks)})`);
}
if (!['sqlite', 'postgresql'].includes(flags.db)) {
  usageError(`--db: expected sqlite or postgresql (got ${JSON.stringify(flags.db)})`);
}
const adminUrl = process.env.BENCH_DATABASE_URL;
if (flags.db === 'postgresql' && !adminUrl) usageError('--db postgresql needs BENCH_DATABASE_URL');
if (replicas > 1 && !process.env.REDIS_URL) usageError('--replicas above 1 needs REDIS_URL');

/** Real time to bench time. */
const scaled = (realMs) => Math.max(1, Math.round(realMs / scale));
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// The bench's timeline, in bench seconds: real users alone first (the guard sees normal traffic),
// then the attacks with real users, then real users alone (nobody is refused once the attack stops).
const BEFORE_S = 10;
const AFTER_S = 5;
// How long real people take to type a code: median 25 s, nine in ten within a minute, about one
// in a hundred after the 2-minute grace; capped at 10 minutes. One in twenty mistypes it first.
const TYPING_MEDIAN_MS = 25_000;
const TYPING_SIGMA = 0.7;
const TYPING_CAP_MS = 10 * MINUTE;
const TYPO_SHARE = 0.05;

const log = (message) => process.stderr.write(`bench:fraud: ${message}\n`);

/** The whole traffic, decided up front from the seed: who starts when, and what each user does. */
function plan() {
  const random = seededRandom(seed);
  const numbers = numberSource(random);
  const events = [];
  const totalS = BEFORE_S + attackSeconds + AFTER_S;
  const perSecond = (perRealHour) => (perRealHour / 3600) * scale;
  for (let at = random.exponential(1000 / perSecond(userRate)); at < totalS * 1000; ) {
    const { country, conversion } = realUserCountry(random);
    const converts = random.next() < conversion;
    const typingMs = Math.min(TYPING_CAP_MS, random.logNormal(TYPING_MEDIAN_MS, TYPING_SIGMA));
    events.push({
      kind: 'user',
      at,
      number: numbers.realUser(country),
      country,
      converts,
      typo: converts && random.next() < TYPO_SHARE,
      typingMs: scaled(typingMs),
      lateTyper: typingMs > 2 * MINUTE,
    });
    at += random.exponential(1000 / perSecond(userRate));
  }
  for (const shape of shapes) {
    const gap = 1000 / perSecond(attackRate);
    for (let at = BEFORE_S * 1000 + random.exponential(gap); at < (BEFORE_S + attackSeconds) * 1000; ) {
      events.push({ kind: shape, at, number: numbers[shape]() });
      at += random.exponential(gap);
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** A local stand-in for the SMS provider: what the service sent, and each number's latest code. */
async function startRecorder() {
  const sent = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const { number, message } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const code = /security code (\d+)/.exec(message)?.[1];
        const entry = sent.get(number) ?? { count: 0, code: undefined };
        entry.count++;
        entry.code = code;
        sent.set(number, entry);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/sms`,
    sent,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A custom backend (loaded from PLUGINS_DIR as an operator's would be) that posts to the recorder. */
function writeRecordingSender(pluginsDir) {
  writeFileSync(
    join(pluginsDir, 'recording-sender.mjs'),
    `import { BaseBackend } from 'phone-verify';
export class RecordingSender extends BaseBackend {
  async sendSms(number, message) {
    const response = await fetch(this.options.sink_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ number, message }),
    });
    if (!response.ok) throw new Error('the recorder answered ' + response.status);
  }
}
`,
  );
  return 'recording-sender.RecordingSender';
}

async function post(base, path, body) {
  try {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, retryAfter: response.headers.get('retry-after'), json };
  } catch (error) {
    return { status: 0, error: error.message };
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the plan against the services in real time; resolves once every user has finished. */
async function drive(events, bases, recorder) {
  const begun = performance.now();
  const now = () => performance.now() - begun;
  const pending = [];
  let turn = 0;
  for (const event of events) {
    const wait = event.at - now();
    if (wait > 0) await sleep(wait);
    const base = bases[turn % bases.length];
    const other = bases[(turn + 1) % bases.length];
    turn++;
    pending.push(
      (async () => {
        event.sentAt = now();
        const reply = await post(base, '/v1/verifications', { phone_number: event.number });
        event.answeredAt = now();
        event.status = reply.status;
        event.code = reply.json?.code ?? reply.error;
        event.retryAfter = reply.retryAfter;
        if (event.kind !== 'user' || reply.status !== 201 || !event.converts) return;
        await sleep(event.typingMs);
        const code = recorder.sent.get(event.number)?.code;
        const check = { phone_number: event.number, session_token: reply.json.session_token };
        if (event.typo) {
          const wrong = String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0');
          await post(other, '/v1/verifications/verify', { ...check, security_code: wrong });
          await sleep(scaled(5_000));
        }
        const verified = await post(other, '/v1/verifications/verify', { ...check, security_code: code });
        event.verifyStatus = verified.status;
        event.verifyCode = verified.json?.code;
      })(),
    );
  }
  await Promise.all(pending);
}

const percent = (part, whole) => (whole ? (100 * part) / whole : 0);
const pct = (part, whole) => (whole ? `${percent(part, whole).toFixed(1)} %` : '-');

function countBy(items, key) {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** What each attack got through, and when and how well the guard stopped it. */
function attackFigures(events, shape, recorder) {
  const starts = events.filter((e) => e.kind === shape);
  const attackBegan = BEFORE_S * 1000;
  const messages = starts.reduce((sum, e) => sum + (recorder.sent.get(e.number)?.count ?? 0), 0);
  const firstBlock = starts
    .filter((e) => e.code === 'destination_blocked')
    .reduce((first, e) => Math.min(first, e.answeredAt), Number.POSITIVE_INFINITY);
  const engaged = Number.isFinite(firstBlock) ? firstBlock : undefined;
  const after = engaged === undefined ? [] : starts.filter((e) => e.sentAt >= engaged);
  const stoppedAfter = after.filter((e) => e.status !== 201).length;
  return {
    shape,
    starts: starts.length,
    messages,
    sentShare: percent(messages, starts.length),
    engagedAfterS: engaged === undefined ? null : (engaged - attackBegan) / 1000,
    startsAfterEngaged: after.length,
    stoppedAfterEngaged: stoppedAfter,
    stoppedShare: engaged === undefined ? null : percent(stoppedAfter, after.length),
    answers: countBy(starts, (e) => (e.status === 201 ? '201' : `${e.status} ${e.code}`)),
    blockedWithoutRetryAfter: starts.filter((e) => e.code === 'destination_blocked' && !e.retryAfter).length,
  };
}

function userFigures(events) {
  const users = events.filter((e) => e.kind === 'user');
  const refused = users.filter((e) => e.status !== 201);
  const typed = users.filter((e) => e.status === 201 && e.converts);
  const approved = typed.filter((e) => e.verifyStatus === 200);
  return {
    starts: users.length,
    countries: Object.keys(countBy(users, (e) => e.country)).length,
    refused: refused.length,
    refusedShare: percent(refused.length, users.length),
    refusals: countBy(refused, (e) => `${e.status} ${e.code}`),
    refusedByCountry: countBy(refused, (e) => e.country),
    typed: typed.length,
    approved: approved.length,
    conversion: percent(approved.length, users.length),
    rightCodeRefused: typed.length - approved.length,
    lateTypers: typed.filter((e) => e.lateTyper).length,
  };
}

async function readBlocks(base) {
  try {
    const response = await fetch(`${base}/v1/fraud-guard/blocks`);
    if (!response.ok) return { error: `GET /v1/fraud-guard/blocks answered ${response.status}` };
    return { blocks: (await response.json()).blocks };
  } catch (error) {
    return { error: error.message };
  }
}

async function readRefusals(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const refusals = {};
  for (const match of text.matchAll(/^phone_verify_starts_refused_total\{reason="([^"]+)"\} (\d+)/gm)) {
    refusals[match[1]] = Number(match[2]);
  }
  return refusals;
}

function printReport({ attacks, users, blocks, refusals, targets }) {
  const realTime = (seconds) => `${seconds.toFixed(1)} s (${((seconds * scale) / 60).toFixed(1)} real min)`;
  console.log(
    `fraud simulation: seed ${seed}, 1 bench s = ${scale} real s, ${attackSeconds} s attack, ` +
      `${userRate} real users/h and ${attackRate} starts/h per attack, ${replicas} replica(s) on ${flags.db}`,
  );
  const header = ['attack', 'starts', 'sent', 'sent/starts', 'engaged after', 'stopped after engaging'];
  const rows = attacks.map((a) => [
    a.shape,
    String(a.starts),
    String(a.messages),
    pct(a.messages, a.starts),
    a.engagedAfterS === null ? 'never' : realTime(a.engagedAfterS),
    a.stoppedShare === null
      ? '-'
      : `${pct(a.stoppedAfterEngaged, a.startsAfterEngaged)} (${a.stoppedAfterEngaged}/${a.startsAfterEngaged})`,
  ]);
  if (attacks.length > 1) {
    const starts = attacks.reduce((s, a) => s + a.starts, 0);
    const sent = attacks.reduce((s, a) => s + a.messages, 0);
    const after = attacks.reduce((s, a) => s + a.startsAfterEngaged, 0);
    const stopped = attacks.reduce((s, a) => s + a.stoppedAfterEngaged, 0);
    rows.push([
      'both',
      String(starts),
      String(sent),
      pct(sent, starts),
      '',
      `${pct(stopped, after)} (${stopped}/${after})`,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row).trimEnd());
  for (const a of attacks) console.log(`  ${a.shape} answers: ${JSON.stringify(a.answers)}`);
  console.log(
    `real users: ${users.starts} starts from ${users.countries} countries, ${users.refused} refused ` +
      `(${users.refusedShare.toFixed(2)} %${users.refused ? ` ${JSON.stringify(users.refusals)} by country ${JSON.stringify(users.refusedByCountry)}` : ''}), ` +
      `${users.approved} approved (conversion ${users.conversion.toFixed(1)} %, ${users.lateTypers} typed after the grace), ` +
      `${users.rightCodeRefused} right codes refused`,
  );
  console.log(`refusals (metrics): ${JSON.stringify(refusals)}`);
  if (blocks.error) console.log(`blocks: ${blocks.error}`);
  else {
    const shown = blocks.blocks
      .slice(0, 8)
      .map((b) => `${b.prefix} (${b.starts} starts, ${b.approvals} approvals)`);
    console.log(
      `blocks: ${blocks.blocks.length}${shown.length ? `: ${shown.join(', ')}` : ''}${blocks.blocks.length > 8 ? ', …' : ''}`,
    );
  }
  for (const target of targets)
    console.log(`target ${target.met ? 'met   ' : 'MISSED'} ${target.name}: ${target.value}`);
}

const tempDir = mkdtempSync(join(tmpdir(), 'pv-bench-fraud-'));
const pluginsDir = join(tempDir, 'plugins');
mkdirSync(pluginsDir);
let database;
let recorder;

async function cleanUp() {
  await stopAllServices();
  await recorder?.close();
  await database?.drop().catch((error) => log(`could not drop the bench database: ${error.message}`));
  rmSync(tempDir, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  log('interrupted: stopping the services');
  cleanUp().finally(() => process.exit(130));
});

try {
  ensureBuilt(log);
  const events = plan();
  log(
    `${events.length} starts planned; ${BEFORE_S} s real users, ${attackSeconds} s attacks, ${AFTER_S} s real users`,
  );
  recorder = await startRecorder();
  database = await createDatabase(flags.db, tempDir, adminUrl);
  const env = {
    PHONE_VERIFICATION_BACKEND: writeRecordingSender(pluginsDir),
    PHONE_VERIFICATION_OPTIONS_SINK_URL: recorder.url,
    PLUGINS_DIR: pluginsDir,
    DATABASE_URL: database.url,
    LOG_LEVEL: 'info',
    // One client address sends everything, and real users may share numbers' limits with nobody:
    // the per-IP and per-number limits are raised as `npm run bench` raises them.
    RATE_LIMIT_MAX: '1000000000',
    PHONE_RATE_LIMIT_MAX: '1000000000',
    // Time scaled, thresholds (FRAUD_GUARD_MIN_STARTS, _MIN_CONVERSION, PREFIX_RATE_LIMIT_MAX) left
    // at their defaults.
    FRAUD_GUARD_WINDOW: String(scaled(HOUR)),
    FRAUD_GUARD_GRACE: String(scaled(2 * MINUTE)),
    FRAUD_GUARD_BLOCK: String(scaled(12 * HOUR)),
    PREFIX_RATE_LIMIT_WINDOW: String(scaled(HOUR)),
  };
  const logFile = flags.log ?? join(tempDir, 'service.log');
  const services = [];
  for (let i = 0; i < replicas; i++) services.push(await startService({ env, logFile }));
  const bases = services.map((s) => s.url);
  await drive(events, bases, recorder);

  const attacks = shapes.map((shape) => attackFigures(events, shape, recorder));
  const users = userFigures(events);
  const blocks = await readBlocks(bases[0]);
  const perReplica = await Promise.all(bases.map(readRefusals));
  const refusals = {};
  for (const counts of perReplica) {
    for (const [reason, n] of Object.entries(counts)) refusals[reason] = (refusals[reason] ?? 0) + n;
  }
  const allStarts = attacks.reduce((s, a) => s + a.starts, 0);
  const allSent = attacks.reduce((s, a) => s + a.messages, 0);
  const targets = [
    ...attacks.map((a) => ({
      name: `${a.shape}: >= 95 % of attack starts stopped once the guard engaged`,
      value: a.stoppedShare === null ? 'the guard never engaged' : `${a.stoppedShare.toFixed(1)} %`,
      met: a.stoppedShare !== null && a.stoppedShare >= 95,
    })),
    {
      name: `<= 50 % of attack starts sent over the ${attackSeconds}-s attack`,
      value: `${percent(allSent, allStarts).toFixed(1)} %`,
      met: percent(allSent, allStarts) <= 50,
    },
    {
      name: 'real users refused 0 (at most 1 %)',
      value: `${users.refused} (${users.refusedShare.toFixed(2)} %)`,
      met: users.refusedShare <= 1,
    },
    {
      name: 'every real user who typed the right code approved',
      value: `${users.rightCodeRefused} refused`,
      met: users.rightCodeRefused === 0,
    },
  ];
  printReport({ attacks, users, blocks, refusals, targets });
  console.log(
    JSON.stringify({
      bench: 'phone-verify fraud',
      node: process.version,
      seed,
      scale,
      attackSeconds,
      userRate,
      attackRate,
      replicas,
      db: flags.db,
      attacks,
      users,
      blocks: blocks.blocks?.length ?? null,
      refusals,
      targetsMet: targets.every((t) => t.met),
    }),
  );
  if (!targets.every((t) => t.met)) process.exitCode = 1;
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await cleanUp();
}
