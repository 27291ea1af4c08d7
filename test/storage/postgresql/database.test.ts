// The PostgreSQL database on its pool (no pipeline): each statement prepared once per connection
// under its name; an ordinary statement error leaves the connection in the pool; a statement past
// the deadline is canceled by the server (the connection stays); a server that goes silent is
// given up after the grace and that connection destroyed, never reused.
import t, { type Test } from 'tap';
import { PostgresDatabase } from '../../../src/storage/postgresql/database.js';
import { compileStatement } from '../../../src/storage/statement.js';
import { DatabaseTimeout, isDatabaseUnavailable } from '../../../src/storage/unavailable.js';
import { postgresAvailable, postgresUrl } from '../../helper.js';
import { proxyInFrontOf } from '../../tcp-proxy.js';

const statement = (name: string, sql: string) => compileStatement('postgresql', `test.${name}`, sql);
const PID = statement('pid', 'SELECT pg_backend_pid() AS pid');
const pidOf = async (database: PostgresDatabase) => (await database.run(PID)).rows[0]?.pid;

function open(t: Test, url: string, timeoutMs = 1_000): PostgresDatabase {
  const database = new PostgresDatabase(url, { timeoutMs });
  t.teardown(() => database.close());
  return database;
}

t.test('named statements, prepared once per connection', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = open(t, await postgresUrl(t));
  const add = statement('add', 'SELECT :n::int + 1 AS n');
  t.same((await database.run(add, { n: 1 })).rows, [{ n: 2 }]);
  t.same((await database.run(add, { n: 41 })).rows, [{ n: 42 }], 'new values, same statement');
  const { rows } = await database.run(
    statement(
      'prepared',
      "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'test.%' ORDER BY name",
    ),
  );
  t.same(
    rows.map((row) => row.name),
    ['test.add', 'test.prepared'],
  );
  t.equal(rows[0]?.statement, 'SELECT $1::int + 1 AS n', 'named parameters numbered');
  await t.rejects(database.run(add, {}), /no value for :n/, 'a missing value is refused before sending');
});

t.test('an ordinary statement error keeps the connection', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = open(t, await postgresUrl(t));
  const before = await pidOf(database);
  await t.rejects(database.run(statement('zero', 'SELECT 1 / 0 AS n')), { code: '22012' });
  t.equal(await pidOf(database), before, 'the same connection answers the next statement');
});

t.test('past the deadline on the server: canceled, unavailable, the connection kept', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = open(t, await postgresUrl(t), 300);
  const before = await pidOf(database);
  const error = await database.run(statement('sleep', 'SELECT pg_sleep(5)')).catch((e: unknown) => e);
  t.match(error, { code: '57014' }, 'statement_timeout');
  t.ok(isDatabaseUnavailable(error), 'answered as 503');
  t.equal(await pidOf(database), before);
});

t.test('a silent server: given up at the deadline, that connection destroyed', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { proxy, url: viaProxy } = await proxyInFrontOf(t, await postgresUrl(t));
  const database = open(t, viaProxy, 300);
  const before = await pidOf(database);
  t.equal(proxy.connections, 1);
  proxy.freeze();
  const error = await database.run(PID).catch((e: unknown) => e);
  t.type(error, DatabaseTimeout);
  t.ok(isDatabaseUnavailable(error));
  proxy.thaw();
  t.not(await pidOf(database), before, 'a new connection: the silent one was not reused');
});

t.test('closed: statements refused; close() twice is harmless', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = new PostgresDatabase(await postgresUrl(t), { timeoutMs: 1_000 });
  await pidOf(database);
  await database.close();
  await t.resolves(database.close());
  await t.rejects(database.run(PID), /closed/);
});
