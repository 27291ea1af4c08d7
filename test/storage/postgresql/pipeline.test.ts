// Pipelined statements with group commit on PostgreSQL: the statements of one event-loop turn share
// a connection, in order, and one transaction; a statement that fails, or a group or statement
// that waits too long for a row lock, gives way and runs again alone on the pool, each stored
// exactly once, while the lane keeps answering the others; a lost connection fails only what was
// on it and the next statement gets a new one; close() ends the connections.
import pg from 'pg';
import t, { type Test } from 'tap';
import { openDatabase } from '../../../src/storage/database.js';
import { Pipeline } from '../../../src/storage/postgresql/pipeline.js';
import { compileStatement } from '../../../src/storage/statement.js';
import { POSTGRES_ADMIN_URL, postgresAvailable, postgresUrl } from '../../helper.js';

interface Pipelined {
  pipeline: Pipeline;
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** statements the pipeline gave back to the pool */
  alone: string[];
  errors: Error[];
}

function pipelined(t: Test, lanes = 2, url = POSTGRES_ADMIN_URL): Pipelined {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  const alone: string[] = [];
  const errors: Error[] = [];
  const pipeline = new Pipeline({
    client: { connectionString: url },
    lanes,
    alone: (query) => {
      alone.push(query.text);
      return pool.query(query);
    },
    onError: (error) => errors.push(error),
  });
  t.teardown(async () => {
    await pipeline.close();
    await pool.end();
  });
  return { pipeline, query: (text, values) => pipeline.query({ text, values }), alone, errors };
}

/** A fresh database with a table `t (id int primary key, n int)` holding rows 1 and 2 at n = 0. */
async function counters(t: Test): Promise<{ url: string; admin: pg.Client }> {
  const url = await postgresUrl(t);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(() => admin.end());
  await admin.query('CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)');
  await admin.query('INSERT INTO t VALUES (1, 0), (2, 0)');
  return { url, admin };
}

const one = async (pending: Promise<pg.QueryResult>) => (await pending).rows[0];
/** The counts of rows 1 and 2 of `counters()`' table. */
const countsOf = async (admin: pg.Client) =>
  (await admin.query('SELECT n FROM t ORDER BY id')).rows.map((row) => row.n);
const TX = 'SELECT $1::int AS n, pg_backend_pid() AS pid, txid_current() AS tx';
const ADD = 'UPDATE t SET n = n + 1 WHERE id = $1 RETURNING n';
/** Holds row 1 locked (SELECT … FOR UPDATE in an open transaction) until the returned function runs. */
async function lockRow(admin: pg.Client): Promise<() => Promise<unknown>> {
  await admin.query('BEGIN');
  await admin.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
  return () => admin.query('COMMIT');
}
/** Polls until the server runs pg_sleep on the backend `pid` (a generous deadline: it waits, it does not time). */
async function sleepingOn(admin: pg.Client, pid: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { rows } = await admin.query(
      "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep(5)%'",
      [pid],
    );
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for pg_sleep on backend ${pid}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const STILL_WAITING = 'still waiting';
/** The answer, or STILL_WAITING if there is none within a bound far above any healthy answer. */
const withinBound = <T>(pending: Promise<T>) =>
  Promise.race([pending, new Promise<string>((resolve) => setTimeout(() => resolve(STILL_WAITING), 5_000))]);

t.test('one turn: one connection, answers in order, one transaction for all', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { query } = pipelined(t);
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => one(query(TX, [i]))));
  t.same(
    answers.map((row) => row.n),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'each statement got its own answer',
  );
  t.equal(new Set(answers.map((row) => row.pid)).size, 1, 'all on one connection');
  t.equal(new Set(answers.map((row) => row.tx)).size, 1, 'all in one transaction');
  const [later] = await Promise.all([one(query(TX, [10]))]);
  t.not(later.tx, answers[0].tx, 'the next turn: a transaction of its own');
});

t.test('a failing statement fails alone', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { query } = pipelined(t);
  const [before, failing, after] = await Promise.allSettled([
    query('SELECT 1 AS n'),
    query('SELECT 1 / 0 AS n'),
    query('SELECT 3 AS n'),
  ]);
  t.same(before.status === 'fulfilled' && before.value.rows, [{ n: 1 }]);
  t.match(failing.status === 'rejected' && failing.reason.message, /division by zero/);
  t.same(after.status === 'fulfilled' && after.value.rows, [{ n: 3 }], 'the next one is answered');
});

t.test('a statement that fails in a group: the others are stored exactly once', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  const { query, alone } = pipelined(t, 1, url);
  const [first, failing, second] = await Promise.allSettled([
    query(ADD, [1]),
    query('INSERT INTO t VALUES (1, 0)'), // primary key taken
    query(ADD, [2]),
  ]);
  t.match(failing.status === 'rejected' && failing.reason, { code: '23505' }, 'the failing one fails');
  t.same(first.status === 'fulfilled' && first.value.rows, [{ n: 1 }]);
  t.same(second.status === 'fulfilled' && second.value.rows, [{ n: 1 }]);
  t.equal(alone.length, 3, 'the group rolled back and each ran again alone');
  t.same(await countsOf(admin), [1, 1]);
});

t.test('a group waiting on a row lock gives way: the rest is answered while the lock is held', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  const { query } = pipelined(t, 1, url);
  const release = await lockRow(admin);
  let lockReleased = false;
  const free = query(ADD, [2]);
  const blocked = query(ADD, [1]).then((result) => ({ lockReleased, rows: result.rows }));
  // Without the lane's lock timeout, its transaction would hold row 2 until row 1 is free.
  const answer = await withinBound(free);
  t.same(answer !== STILL_WAITING && (answer as pg.QueryResult).rows, [{ n: 1 }], 'answered, lock held');
  lockReleased = true;
  await release();
  t.same(await blocked, { lockReleased: true, rows: [{ n: 1 }] }, 'the waiting one, once the lock is free');
  t.same(await countsOf(admin), [1, 1]);
});

t.test(
  'a lone statement waiting on a row lock gives way: the lane answers later turns meanwhile',
  async (t) => {
    if (!(await postgresAvailable(t))) return;
    const { url, admin } = await counters(t);
    const { query, alone } = pipelined(t, 1, url);
    const release = await lockRow(admin);
    let lockReleased = false;
    const blocked = query(ADD, [1]).then((result) => ({ lockReleased, rows: result.rows }));
    await new Promise((resolve) => setTimeout(resolve, 20)); // a later turn, on the same lane
    const answer = await withinBound(query(ADD, [2]));
    t.same(answer !== STILL_WAITING && (answer as pg.QueryResult).rows, [{ n: 1 }], 'answered, lock held');
    t.same(alone, [ADD], 'the waiting statement moved to the pool');
    lockReleased = true;
    await release();
    t.same(await blocked, { lockReleased: true, rows: [{ n: 1 }] });
    t.same(await countsOf(admin), [1, 1]);
  },
);

t.test('two groups that would deadlock: both give way, every statement stored once', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  const { query } = pipelined(t, 2, url);
  // Each turn fills a lane with 16 statements before the other takes over: the first group locks
  // row 1 then wants row 2, the second locks row 2 then wants row 1; each first statement sleeps
  // so that both hold their lock.
  const sleepThenAdd = 'UPDATE t SET n = n + 1 FROM (SELECT pg_sleep(0.05)) AS s WHERE id = $1 RETURNING n';
  const filler = (n: number) => Array.from({ length: n }, () => query('SELECT 1'));
  const answers = await Promise.allSettled([
    query(sleepThenAdd, [1]),
    query(ADD, [2]),
    ...filler(14),
    query(sleepThenAdd, [2]),
    query(ADD, [1]),
  ]);
  t.ok(
    answers.every((answer) => answer.status === 'fulfilled'),
    'every statement is answered',
  );
  t.same(await countsOf(admin), [2, 2], 'each row counted twice: no statement lost or run twice');
});

t.test('busy turns spread over the connections', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { query } = pipelined(t);
  // 40 statements in one turn: 16 per connection at most before the other takes over.
  const pids = await Promise.all(
    Array.from({ length: 40 }, async () => (await one(query('SELECT pg_backend_pid() AS pid'))).pid),
  );
  t.equal(new Set(pids).size, 2);
});

t.test('a lost connection fails what was on it; the next statement gets a new one', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { query, errors } = pipelined(t, 1);
  const { pid } = await one(query('SELECT pg_backend_pid() AS pid'));
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const slow = query('SELECT pg_sleep(5)').then(
    () => null,
    (error: Error) => error,
  );
  await sleepingOn(admin, pid); // in flight on the server, not merely queued in the client
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  t.match(await slow, { severity: 'FATAL', code: '57P01' }, 'the statement in flight fails');
  const { pid: next } = await one(query('SELECT pg_backend_pid() AS pid'));
  t.not(next, pid, 'a new connection');
  // The client may also report the close itself: told to onError, never thrown at the process.
  t.ok(
    errors.every((error) => /terminat/i.test(error.message)),
    errors.map((error) => error.message).join('; ') || 'no error event',
  );
});

t.test('a connection lost during a group fails its statements, which are not run again', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  const { query, alone } = pipelined(t, 1, url);
  const { pid } = await one(query('SELECT pg_backend_pid() AS pid'));
  const group = Promise.allSettled([
    query('UPDATE t SET n = n + 1 WHERE id = 1'),
    query('SELECT pg_sleep(5)'),
  ]);
  await sleepingOn(admin, pid); // in flight on the server, not merely queued in the client
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const [update, sleep] = await group;
  t.equal(update.status, 'rejected', 'the statement before the lost one fails too: its commit is unknown');
  t.match(sleep.status === 'rejected' && sleep.reason, { code: '57P01' });
  t.same(alone, [], 'nothing ran again');
  t.same(await countsOf(admin), [0, 0], 'rolled back by the server');
  t.same(await one(query('SELECT 1 AS ok')), { ok: 1 }, 'the next statement gets a new connection');
});

t.test('an unreachable server fails the statement; no process crash', async (t) => {
  const { query } = pipelined(t, 1, 'postgresql://nobody@127.0.0.1:1/none');
  const unreachable = { code: 'DATABASE_UNREACHABLE', cause: { code: 'ECONNREFUSED' } };
  const [first, second] = await Promise.allSettled([query('SELECT 1'), query('SELECT 2')]);
  t.match(first.status === 'rejected' && first.reason, unreachable, 'a group fails');
  t.match(second.status === 'rejected' && second.reason, unreachable);
  await t.rejects(query('SELECT 1'), unreachable);
  await t.rejects(query('SELECT 1'), unreachable, 'and again, on a new attempt');
});

t.test('close() ends the connections; later statements are refused', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pipeline, query } = pipelined(t);
  const { pid } = await one(query('SELECT pg_backend_pid() AS pid'));
  await pipeline.close();
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const alive = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid]);
  t.equal(alive.rows[0].n, 0, 'the connection is gone');
  await t.rejects(query('SELECT 1'), /closed/);
});

t.test('the service’s database: named statements pipelined, and closed with it', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = await openDatabase('postgresql', await postgresUrl(t), { pipelineLanes: 2 });
  let closed = false;
  t.teardown(() => (closed ? undefined : database.close()));
  const pidOf = compileStatement('postgresql', 'test.pid', 'SELECT pg_backend_pid() AS pid');
  const results = await Promise.all(Array.from({ length: 5 }, () => database.run(pidOf)));
  t.equal(new Set(results.map((result) => result.rows[0]?.pid)).size, 1, 'one turn, one connection');
  const prepared = compileStatement(
    'postgresql',
    'test.prepared',
    'SELECT name FROM pg_prepared_statements ORDER BY name',
  );
  const { rows } = await database.run(prepared);
  t.same(
    rows.map((row) => row.name),
    ['test.pid', 'test.prepared'],
    'each statement is prepared under its name on the connection',
  );
  await database.close();
  closed = true;
});
