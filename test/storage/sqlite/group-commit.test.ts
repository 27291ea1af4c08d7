// Group commit on SQLite: writes issued together share one transaction, each caller gets its own
// result or error, nobody is answered before the COMMIT that makes their write durable, and reads
// never wait for the write lock.
import Sqlite from 'better-sqlite3';
import t, { type Test } from 'tap';
import { openSqlite, type SqliteDatabase } from '../../../src/storage/sqlite/database.js';
import { sqliteFilePath } from '../../../src/storage/sqlite/file.js';
import { compileStatement, type SqlParams } from '../../../src/storage/statement.js';
import { sqliteUrl } from '../../helper.js';

const statement = (sql: string) => compileStatement('sqlite', `test.${sql}`, sql);
const INSERT = statement('INSERT INTO items (id, name) VALUES (:id, :name)');
const INSERT_RETURNING = statement('INSERT INTO items (id, name) VALUES (:id, :name) RETURNING id, name');
const insert = (id: number, name: string): SqlParams => ({ id, name });

async function open(t: Test): Promise<{ database: SqliteDatabase; url: string }> {
  const url = await sqliteUrl(t);
  const setup = new Sqlite(sqliteFilePath(url));
  setup.exec(`
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TRIGGER items_abort BEFORE INSERT ON items WHEN NEW.name = 'abort-all'
      BEGIN SELECT RAISE(ROLLBACK, 'rolled back by trigger'); END;
    CREATE TABLE parents (id INTEGER PRIMARY KEY);
    CREATE TABLE children (id INTEGER PRIMARY KEY,
      parent_id INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);`);
  setup.close();
  const database = await openSqlite(url, { timeoutMs: 5_000 });
  t.teardown(() => database.close());
  return { database, url };
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
  const { database, url } = await open(t);
  const before = { ...database.groupCommitStats };
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => database.run(INSERT, insert(i, `n${i}`))),
  );
  t.same(
    results.map((result) => result.changes),
    Array(20).fill(1),
    'one row changed per statement',
  );
  t.equal(database.groupCommitStats.commits - before.commits, 1, 'one commit for the twenty');
  t.equal(database.groupCommitStats.statements - before.statements, 20);
  t.equal(committed(url, 'items').length, 20, 'all twenty are committed');

  const returning = await Promise.all([
    database.run(INSERT_RETURNING, insert(100, 'x')),
    database.run(INSERT_RETURNING, insert(101, 'y')),
  ]);
  t.same(
    returning.map((result) => result.rows),
    [[{ id: 100, name: 'x' }], [{ id: 101, name: 'y' }]],
    'RETURNING rows go to their own caller',
  );
});

t.test('a failing statement fails alone; the rest of its batch commits', async (t) => {
  const { database, url } = await open(t);
  const settled = await Promise.allSettled([
    database.run(INSERT, insert(1, 'a')),
    database.run(INSERT, insert(1, 'duplicate')),
    database.run(INSERT, insert(2, 'b')),
  ]);
  t.same(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.match((settled[1] as PromiseRejectedResult).reason, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  t.same(committed(url, 'items'), [
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ]);
});

t.test(
  'a statement that rolls the transaction back fails those before it; those after still run',
  async (t) => {
    const { database, url } = await open(t);
    const settled = await Promise.allSettled([
      database.run(INSERT, insert(1, 'a')),
      database.run(INSERT, insert(2, 'abort-all')),
      database.run(INSERT, insert(3, 'c')),
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
  const { database, url } = await open(t);
  const settled = await Promise.allSettled([
    database.run(INSERT, insert(1, 'a')),
    // checked at COMMIT: no parent 42
    database.run(statement('INSERT INTO children (id, parent_id) VALUES (1, 42)')),
  ]);
  t.same(
    settled.map((s) => s.status),
    ['rejected', 'rejected'],
  );
  t.match(String((settled[0] as PromiseRejectedResult).reason), /FOREIGN KEY/);
  t.same(committed(url, 'items'), []);
  t.same(committed(url, 'children'), []);
  t.equal((await database.run(INSERT, insert(5, 'after'))).changes, 1, 'the connection is usable afterwards');
  t.same(committed(url, 'items'), [{ id: 5, name: 'after' }]);
});

t.test('reads do not wait for the write lock', async (t) => {
  const { database, url } = await open(t);
  await database.run(INSERT, insert(1, 'a'));
  const other = new Sqlite(sqliteFilePath(url));
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE'); // another connection holds the write lock
  const result = await database.run(statement('SELECT count(*) AS n FROM items'));
  t.same(result.rows, [{ n: 1 }], 'a SELECT runs outside any batch, on its own');
  other.exec('COMMIT');
  t.equal((await database.run(INSERT, insert(2, 'b'))).changes, 1);
  t.equal(committed(url, 'items').length, 2);
});

t.test('values: times as ISO text, lists as JSON, booleans as 0/1; a missing one is refused', async (t) => {
  const { database } = await open(t);
  const echo = statement('SELECT :when AS w, (SELECT count(*) FROM json_each(:list)) AS n, :flag AS f');
  const { rows } = await database.run(echo, {
    when: new Date('2026-01-02T03:04:05.678Z'),
    list: ['a', 'b', 'c'],
    flag: true,
  });
  t.same(rows, [{ w: '2026-01-02T03:04:05.678Z', n: 3, f: 1 }]);
  await t.rejects(database.run(echo, { when: null, list: [] }), /no value for :flag/);
});
