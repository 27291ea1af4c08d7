// Pipelined statements on PostgreSQL: the statements of one event-loop turn share a connection, in
// order, and (group commit) one transaction; a statement that fails, or a group that waits too
// long for a lock, rolls back and its statements run again alone, each stored exactly once; a lost
// connection fails only what was on it and the next statement gets a new one; close() ends the
// connections.
import pg from 'pg';
import t, { type Test } from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { type PipelineOptions, pipelineQueries } from '../../src/storage/pg-pipeline.js';
import { POSTGRES_ADMIN_URL, postgresAvailable, postgresUrl } from '../helper.js';

function pipelinedPool(t: Test, options: PipelineOptions = {}, url = POSTGRES_ADMIN_URL) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const errors: Error[] = [];
  const pipeline = pipelineQueries(pool, {
    connections: 2,
    ...options,
    onError: (error) => errors.push(error),
  });
  t.teardown(async () => {
    await pipeline.close();
    await pool.end();
  });
  return { pool, pipeline, errors };
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

t.test('one turn: one connection, answers in order, one transaction for all', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool } = pipelinedPool(t);
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => one(pool.query(TX, [i]))));
  t.same(
    answers.map((row) => row.n),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'each statement got its own answer',
  );
  t.equal(new Set(answers.map((row) => row.pid)).size, 1, 'all on one connection');
  t.equal(new Set(answers.map((row) => row.tx)).size, 1, 'all in one transaction');
  const [later] = await Promise.all([one(pool.query(TX, [10]))]);
  t.not(later.tx, answers[0].tx, 'the next turn: a transaction of its own');
});

t.test('without group commit: one transaction per statement', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool } = pipelinedPool(t, { groupCommit: false });
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => one(pool.query(TX, [i]))));
  t.equal(new Set(answers.map((row) => row.pid)).size, 1, 'all on one connection');
  t.equal(new Set(answers.map((row) => row.tx)).size, 10, 'each in a transaction of its own');
});

t.test('a failing statement fails alone', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool } = pipelinedPool(t);
  const [before, failing, after] = await Promise.allSettled([
    pool.query('SELECT 1 AS n'),
    pool.query('SELECT 1 / 0 AS n'),
    pool.query('SELECT 3 AS n'),
  ]);
  t.same(before.status === 'fulfilled' && before.value.rows, [{ n: 1 }]);
  t.match(failing.status === 'rejected' && failing.reason.message, /division by zero/);
  t.same(after.status === 'fulfilled' && after.value.rows, [{ n: 3 }], 'the next one is answered');
});

t.test('a statement that fails in a group: the others are stored exactly once', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  const { pool } = pipelinedPool(t, { connections: 1 }, url);
  const add = (id: number) => pool.query('UPDATE t SET n = n + 1 WHERE id = $1 RETURNING n', [id]);
  const [first, failing, second] = await Promise.allSettled([
    add(1),
    pool.query('INSERT INTO t VALUES (1, 0)'), // primary key taken
    add(2),
  ]);
  t.match(failing.status === 'rejected' && failing.reason, { code: '23505' }, 'the failing one fails');
  t.same(first.status === 'fulfilled' && first.value.rows, [{ n: 1 }]);
  t.same(second.status === 'fulfilled' && second.value.rows, [{ n: 1 }]);
  t.same(await countsOf(admin), [1, 1]);
});

t.test('a group waiting on a row lock gives way: the rest is answered while the lock is held', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  const { pool } = pipelinedPool(t, { connections: 1 }, url);
  await admin.query('BEGIN');
  await admin.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
  let lockReleased = false;
  const free = pool.query('UPDATE t SET n = n + 1 WHERE id = 2 RETURNING n');
  const blocked = pool
    .query('UPDATE t SET n = n + 1 WHERE id = 1 RETURNING n')
    .then((result) => ({ lockReleased, rows: result.rows }));
  const waited = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000));
  // Without the group's lock timeout, its transaction would hold row 2 until row 1 is free.
  const answer = await Promise.race([free, waited]);
  t.same(answer !== 'still waiting' && (answer as pg.QueryResult).rows, [{ n: 1 }], 'answered, lock held');
  lockReleased = true;
  await admin.query('COMMIT');
  t.same(await blocked, { lockReleased: true, rows: [{ n: 1 }] }, 'the waiting one, once the lock is free');
  t.same(await countsOf(admin), [1, 1]);
});

t.test('two groups that would deadlock: both give way, every statement stored once', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { url, admin } = await counters(t);
  // Two statements per connection: the first group locks row 1 then wants row 2, the second
  // locks row 2 then wants row 1; each first statement sleeps so that both hold their lock.
  const { pool } = pipelinedPool(t, { connections: 2, batch: 2 }, url);
  const sleepThenAdd = 'UPDATE t SET n = n + 1 FROM (SELECT pg_sleep(0.05)) AS s WHERE id = $1 RETURNING n';
  const add = 'UPDATE t SET n = n + 1 WHERE id = $1 RETURNING n';
  const pids = 'SELECT pg_backend_pid() AS pid';
  const [a, , c] = await Promise.all([one(pool.query(pids)), one(pool.query(pids)), one(pool.query(pids))]);
  t.not(a.pid, c.pid, 'two connections, two statements each per turn');
  const answers = await Promise.allSettled([
    pool.query(sleepThenAdd, [1]),
    pool.query(add, [2]),
    pool.query(sleepThenAdd, [2]),
    pool.query(add, [1]),
  ]);
  t.same(
    answers.map((answer) => answer.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    'every statement is answered',
  );
  t.same(await countsOf(admin), [2, 2], 'each row counted twice: no statement lost or run twice');
});

t.test('busy turns spread over the connections', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool } = pipelinedPool(t);
  // 40 statements in one turn: 16 per connection at most before the other takes over.
  const pids = await Promise.all(
    Array.from({ length: 40 }, async () => (await one(pool.query('SELECT pg_backend_pid() AS pid'))).pid),
  );
  t.equal(new Set(pids).size, 2);
});

t.test('a lost connection fails what was on it; the next statement gets a new one', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool, errors } = pipelinedPool(t, { connections: 1 });
  const { pid } = await one(pool.query('SELECT pg_backend_pid() AS pid'));
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const slow = pool.query('SELECT pg_sleep(5)').then(
    () => null,
    (error: Error) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  t.match(await slow, { severity: 'FATAL', code: '57P01' }, 'the statement in flight fails');
  // At once, before the client has seen the connection close.
  const { pid: next } = await one(pool.query('SELECT pg_backend_pid() AS pid'));
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
  const { pool } = pipelinedPool(t, { connections: 1 }, url);
  const { pid } = await one(pool.query('SELECT pg_backend_pid() AS pid'));
  const group = Promise.allSettled([
    pool.query('UPDATE t SET n = n + 1 WHERE id = 1'),
    pool.query('SELECT pg_sleep(5)'),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const [update, sleep] = await group;
  t.equal(update.status, 'rejected', 'the statement before the lost one fails too: its commit is unknown');
  t.match(sleep.status === 'rejected' && sleep.reason, { code: '57P01' });
  const { rows } = await admin.query('SELECT n FROM t WHERE id = 1');
  t.same(rows, [{ n: 0 }], 'rolled back by the server, and not run again');
  t.same(await one(pool.query('SELECT 1 AS ok')), { ok: 1 }, 'the next statement gets a new connection');
});

t.test('an unreachable server fails the statement; no process crash', async (t) => {
  const pool = new pg.Pool({ connectionString: 'postgresql://nobody@127.0.0.1:1/none', max: 1 });
  const pipeline = pipelineQueries(pool, { connections: 1 });
  t.teardown(async () => {
    await pipeline.close();
    await pool.end();
  });
  const [first, second] = await Promise.allSettled([pool.query('SELECT 1'), pool.query('SELECT 2')]);
  t.match(first.status === 'rejected' && first.reason, { code: 'ECONNREFUSED' }, 'a group fails');
  t.match(second.status === 'rejected' && second.reason, { code: 'ECONNREFUSED' });
  await t.rejects(pool.query('SELECT 1'), { code: 'ECONNREFUSED' });
  await t.rejects(pool.query('SELECT 1'), { code: 'ECONNREFUSED' }, 'and again, on a new attempt');
});

t.test('close() ends the connections; later statements are refused', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const pool = new pg.Pool({ connectionString: POSTGRES_ADMIN_URL, max: 1 });
  const pipeline = pipelineQueries(pool, { connections: 2 });
  t.teardown(() => pool.end());
  const { pid } = await one(pool.query('SELECT pg_backend_pid() AS pid'));
  await pipeline.close();
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const alive = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid]);
  t.equal(alive.rows[0].n, 0, 'the connection is gone');
  await t.rejects(pool.query('SELECT 1'), /end on the pool/);
});

t.test('the service’s database: statements pipelined, and closed with it', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = await openDatabase('postgresql', await postgresUrl(t), { pipelineConnections: 2 });
  let closed = false;
  t.teardown(() => (closed ? undefined : database.close()));
  const query = (sql: string) => ({ sql, args: [], argTypes: [] });
  const pids = await Promise.all(
    Array.from({ length: 5 }, () => database.sql.queryRaw(query('SELECT pg_backend_pid() AS pid') as never)),
  );
  t.equal(new Set(pids.map((result) => String(result.rows[0]![0]))).size, 1, 'one turn, one connection');
  await database.close();
  closed = true;
});
