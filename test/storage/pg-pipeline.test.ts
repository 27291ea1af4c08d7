// Pipelined statements on PostgreSQL: the statements of one event-loop turn share a connection, in
// order, each in its own transaction and failing alone; a lost connection fails only what was on
// it and the next statement gets a new one; close() ends the connections.
import pg from 'pg';
import t, { type Test } from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { pipelineQueries } from '../../src/storage/pg-pipeline.js';
import { POSTGRES_ADMIN_URL, postgresAvailable, postgresUrl } from '../helper.js';

function pipelinedPool(t: Test, connections = 2) {
  const pool = new pg.Pool({ connectionString: POSTGRES_ADMIN_URL, max: 2 });
  const errors: Error[] = [];
  const pipeline = pipelineQueries(pool, { connections, onError: (error) => errors.push(error) });
  t.teardown(async () => {
    await pipeline.close();
    await pool.end();
  });
  return { pool, pipeline, errors };
}

const one = async (pending: Promise<pg.QueryResult>) => (await pending).rows[0];

t.test('one turn: one connection, answers in order, one transaction per statement', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool } = pipelinedPool(t);
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      one(pool.query('SELECT $1::int AS n, pg_backend_pid() AS pid, txid_current() AS tx', [i])),
    ),
  );
  t.same(
    answers.map((row) => row.n),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'each statement got its own answer',
  );
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

t.test('busy turns spread over the connections', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool } = pipelinedPool(t, 2);
  // 40 statements in one turn: 16 per connection at most before the other takes over.
  const pids = await Promise.all(
    Array.from({ length: 40 }, async () => (await one(pool.query('SELECT pg_backend_pid() AS pid'))).pid),
  );
  t.equal(new Set(pids).size, 2);
});

t.test('a lost connection fails what was on it; the next statement gets a new one', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { pool, errors } = pipelinedPool(t, 1);
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

t.test('an unreachable server fails the statement; no process crash', async (t) => {
  const pool = new pg.Pool({ connectionString: 'postgresql://nobody@127.0.0.1:1/none', max: 1 });
  const pipeline = pipelineQueries(pool, { connections: 1 });
  t.teardown(async () => {
    await pipeline.close();
    await pool.end();
  });
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
