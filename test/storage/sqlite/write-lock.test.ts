// SQLite's write lock held by another process (a purge, a replica sharing the file): the service's
// event loop never waits for it, /healthz answers at once, a write waits for the lock
// asynchronously and is answered once it is free, or 503 service_unavailable at DATABASE_TIMEOUT.
// And a purge run beside the service (npm run purge) never makes its writes miss their deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { build, postJson, runSql, sqliteUrl, type TestApp } from '../../helper.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const DATABASE_TIMEOUT_MS = 1_500;
/**
 * Far above any stall of a healthy event loop here, far below the lock's hold: a loop that waited
 * for the lock synchronously would stall for the whole hold (or better-sqlite3's busy timeout).
 */
const STALL_BOUND_MS = 1_000;

/** Another process that takes the write lock (BEGIN IMMEDIATE) and holds it until told to commit. */
async function lockHolder(t: Test, file: string): Promise<{ commit(): Promise<void> }> {
  const source = `
    const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', source], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill());
  await once(child.stdout!, 'data');
  return {
    async commit() {
      child.stdin!.write('commit\n');
      await once(child, 'exit');
    },
  };
}

/** Watches the event loop: the longest it went without running a 10 ms timer, in milliseconds. */
function stallWatch(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

async function app(t: Test): Promise<{ target: TestApp; file: string; url: string }> {
  const url = await sqliteUrl(t);
  const target = await build(t, {
    env: { DATABASE_URL: url, DATABASE_TIMEOUT: String(DATABASE_TIMEOUT_MS) },
  });
  return { target, file: url.slice('file:'.length), url };
}

const start = (target: TestApp, phoneNumber = '+14155550100') =>
  postJson(target.app, '/v1/verifications', { phone_number: phoneNumber });

t.test('a write lock held past the deadline: 503, and the event loop never stalls', async (t) => {
  const { target, file } = await app(t);
  t.equal((await start(target)).statusCode, 201);
  const holder = await lockHolder(t, file);
  const watch = stallWatch();
  let startAnswered = false;
  const blocked = start(target, '+14155550111').then((reply) => {
    startAnswered = true;
    return reply;
  });
  await new Promise((resolve) => setTimeout(resolve, 100)); // the start is waiting for the lock now
  const health = await target.app.inject('/healthz');
  t.equal(health.statusCode, 200, '/healthz answers');
  t.equal(startAnswered, false, 'while the start still waits for the lock');
  const reply = await blocked;
  t.equal(reply.statusCode, 503);
  t.equal(reply.json().code, 'service_unavailable');
  const stall = watch.stop();
  t.ok(stall < STALL_BOUND_MS, `longest event-loop stall ${Math.round(stall)} ms`);
  await holder.commit();
  t.equal((await start(target, '+14155550111')).statusCode, 201, 'once the lock is free, a start succeeds');
});

t.test('a write lock released before the deadline: the waiting write goes through', async (t) => {
  const { target, file, url } = await app(t);
  const holder = await lockHolder(t, file);
  const watch = stallWatch();
  const waiting = start(target);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal((await target.app.inject('/healthz')).statusCode, 200, '/healthz meanwhile');
  await holder.commit();
  const reply = await waiting;
  t.equal(reply.statusCode, 201, 'answered once the lock was released');
  t.ok(watch.stop() < STALL_BOUND_MS, 'no stall');
  t.equal((await runSql(url, 'SELECT count(*) AS n FROM verifications'))[0]!.n, 1, 'stored');
});

t.test('npm run purge beside the service: every start succeeds meanwhile', async (t) => {
  const { target, file, url } = await app(t);
  // 20,000 old sessions for the purge, made by SQLite itself.
  await runSql(
    url,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
     INSERT INTO verifications (id, service_id, phone_number, channel, status, token_hash, code_hash,
       failed_attempts, approvals, backend, created_at, expires_at, updated_at)
     SELECT 'old-' || i, 'default', '+14155550199', 'sms', 'approved', 'token-' || i, 'code', 0, 1,
       'console', '2020-01-01T00:00:00.000Z', '2020-01-01T01:00:00.000Z', '2020-01-01T00:00:00.000Z' FROM n`,
  );
  const purge = spawn(process.execPath, ['--import', 'tsx', 'src/cli/purge.ts', '--days', '30'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: `file:${file}`, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  purge.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = once(purge, 'exit');
  let done = false;
  exited.then(() => {
    done = true;
  });
  const statuses: number[] = [];
  const watch = stallWatch();
  for (let i = 0; !done; i++) {
    statuses.push((await start(target, `+1415555${String(1000 + (i % 8000)).padStart(4, '0')}`)).statusCode);
  }
  const [code] = await exited;
  t.equal(code, 0, 'the purge finished');
  t.match(output, /^deleted 20000 /);
  t.ok(statuses.length > 0, `${statuses.length} starts during the purge`);
  t.same(
    statuses.filter((status) => status !== 201),
    [],
    'all of them 201',
  );
  t.ok(watch.stop() < STALL_BOUND_MS, 'no stall');
});
