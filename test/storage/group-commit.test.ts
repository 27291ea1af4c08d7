// Group commit on SQLite: statements issued together share one transaction, each caller gets its
// own result or error, and nobody is answered before the COMMIT that makes their write durable.
import Sqlite from 'better-sqlite3';
import t, { type Test } from 'tap';
import { type Database, openDatabase, type SqlQuery, sqliteFilePath } from '../../src/storage/database.js';
import type { GroupCommitConnection } from '../../src/storage/group-commit.js';
import { sqliteUrl } from '../helper.js';

const insert = (id: number, name: string): SqlQuery => ({
  sql: 'INSERT INTO items (id, name) VALUES (?, ?)',
  args: [id, name],
  argTypes: [
    { scalarType: 'int', arity: 'scalar' },
    { scalarType: 'string', arity: 'scalar' },
  ],
});

async function open(t: Test): Promise<{ database: Database; sql: GroupCommitConnection; url: string }> {
  const url = await sqliteUrl(t);
  const database = await openDatabase('sqlite', url);
  t.teardown(() => database.close());
  await database.sql.executeScript(`
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TRIGGER items_abort BEFORE INSERT ON items WHEN NEW.name = 'abort-all'
      BEGIN SELECT RAISE(ROLLBACK, 'rolled back by trigger'); END;
    CREATE TABLE parents (id INTEGER PRIMARY KEY);
    CREATE TABLE children (id INTEGER PRIMARY KEY,
      parent_id INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);`);
  return { database, sql: database.sql as GroupCommitConnection, url };
}

/** Rows as another connection sees them: only what was committed. */
function committed(url: string, table: string): unknown[] {
  const reader = new Sqlite(sqliteFilePath(url), { readonly: true });
  try {
    return reader.prepare(`SELECT * FROM ${table} ORDER BY id`).all();
  } finally {
    reader.close();
  }
}

t.test('statements issued in one turn share one commit; each gets its own result', async (t) => {
  const { sql, url } = await open(t);
  const before = { ...sql.groupCommitStats };
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sql.executeRaw(insert(i, `n${i}`))));
  t.same(results, Array(20).fill(1), 'one row changed per statement');
  t.equal(sql.groupCommitStats.commits - before.commits, 1, 'one commit for the twenty');
  t.equal(sql.groupCommitStats.statements - before.statements, 20);
  t.equal(committed(url, 'items').length, 20, 'all twenty are committed');

  const returning = await Promise.all([
    sql.queryRaw({ ...insert(100, 'x'), sql: `${insert(100, 'x').sql} RETURNING id, name` }),
    sql.queryRaw({ ...insert(101, 'y'), sql: `${insert(101, 'y').sql} RETURNING id, name` }),
  ]);
  t.same(
    returning.map((result) => result.rows),
    [[[100, 'x']], [[101, 'y']]],
    'RETURNING rows go to their own caller',
  );
});

t.test('a failing statement fails alone; the rest of its batch commits', async (t) => {
  const { sql, url } = await open(t);
  const settled = await Promise.allSettled([
    sql.executeRaw(insert(1, 'a')),
    sql.executeRaw(insert(1, 'duplicate')),
    sql.executeRaw(insert(2, 'b')),
  ]);
  t.same(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.match(String((settled[1] as PromiseRejectedResult).reason), /UniqueConstraintViolation/);
  t.same(committed(url, 'items'), [
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ]);
});

t.test(
  'a statement that rolls the transaction back fails those before it; those after still run',
  async (t) => {
    const { sql, url } = await open(t);
    const settled = await Promise.allSettled([
      sql.executeRaw(insert(1, 'a')),
      sql.executeRaw(insert(2, 'abort-all')),
      sql.executeRaw(insert(3, 'c')),
    ]);
    t.same(
      settled.map((s) => s.status),
      ['rejected', 'rejected', 'fulfilled'],
      'the first was undone with the transaction, so it is not reported as written',
    );
    t.equal(
      (settled[0] as PromiseRejectedResult).reason,
      (settled[1] as PromiseRejectedResult).reason,
      'with the error of the statement that ended the transaction',
    );
    t.same(committed(url, 'items'), [{ id: 3, name: 'c' }]);
  },
);

t.test('a failed COMMIT fails the whole batch and leaves nothing behind', async (t) => {
  const { sql, url } = await open(t);
  const settled = await Promise.allSettled([
    sql.executeRaw(insert(1, 'a')),
    sql.executeRaw({
      sql: 'INSERT INTO children (id, parent_id) VALUES (1, 42)', // checked at COMMIT: no parent 42
      args: [],
      argTypes: [],
    }),
  ]);
  t.same(
    settled.map((s) => s.status),
    ['rejected', 'rejected'],
  );
  t.match(String((settled[0] as PromiseRejectedResult).reason), /FOREIGN KEY/);
  t.same(committed(url, 'items'), []);
  t.same(committed(url, 'children'), []);
  t.equal(await sql.executeRaw(insert(5, 'after')), 1, 'the connection is usable afterwards');
  t.same(committed(url, 'items'), [{ id: 5, name: 'after' }]);
});

t.test('reads do not wait for the write lock', async (t) => {
  const { sql, url } = await open(t);
  await sql.executeRaw(insert(1, 'a'));
  const other = new Sqlite(sqliteFilePath(url));
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
  const result = await sql.queryRaw({ sql: 'SELECT count(*) AS n FROM items', args: [], argTypes: [] });
  t.same(result.rows, [[1]], 'a SELECT runs outside any batch, on its own');
  other.exec('COMMIT');
  t.equal(await sql.executeRaw(insert(2, 'b')), 1);
  t.equal(committed(url, 'items').length, 2);
});
