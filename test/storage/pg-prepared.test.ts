// Named statements under Prisma's PostgreSQL adapter: one prepared statement per SQL text, on each
// connection, and results as before.
import pg from 'pg';
import t from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { prepareStatements } from '../../src/storage/pg-prepared.js';
import { POSTGRES_ADMIN_URL, postgresAvailable, postgresUrl } from '../helper.js';

t.test('each SQL text is prepared once per connection and reused', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const pool = new pg.Pool({ connectionString: POSTGRES_ADMIN_URL, max: 1 });
  t.teardown(() => pool.end());
  prepareStatements(pool, 2);
  prepareStatements(pool, 2); // idempotent

  const add = { text: 'SELECT $1::int + 1 AS n', rowMode: 'array' as const };
  t.same((await pool.query({ ...add, values: [1] })).rows, [[2]]);
  t.same((await pool.query({ ...add, values: [41] })).rows, [[42]], 'new arguments, same statement');
  const prepared = async () =>
    (
      await pool.query(
        "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'pv\\_%' ORDER BY name",
      )
    ).rows as { name: string; statement: string }[];
  t.same(await prepared(), [{ name: 'pv_1', statement: add.text }], 'a string query is left unnamed');

  await pool.query({ text: 'SELECT 2 AS two' }); // the second name
  await pool.query({ text: 'SELECT 3 AS three' }); // past the limit: unnamed
  await pool.query({ text: 'SELECT 4 AS four', name: 'mine' }); // a caller's own name is kept
  t.same(
    (await prepared()).map((row) => row.name),
    ['pv_1', 'pv_2'],
  );
  t.equal(
    (await pool.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'mine'")).rows[0].n,
    1,
  );
});

t.test('through Prisma’s adapter: the store’s statements are prepared', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const database = await openDatabase('postgresql', await postgresUrl(t));
  t.teardown(() => database.close());
  const query = {
    sql: 'SELECT $1::text AS v',
    args: ['x'],
    argTypes: [{ scalarType: 'string', arity: 'scalar' }],
  };
  for (let i = 0; i < 3; i++) t.same((await database.sql.queryRaw(query as never)).rows, [['x']]);
  const statements = await database.sql.queryRaw({
    sql: "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'pv\\_%'",
    args: [],
    argTypes: [],
  });
  t.ok(
    statements.rows.some(([statement]) => statement === query.sql),
    'the adapter’s query runs as a named statement',
  );
});
