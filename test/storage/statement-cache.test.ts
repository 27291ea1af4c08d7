// Prepared statements are reused under Prisma's SQLite adapter, and results stay what they were.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import t from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { reusePreparedStatements } from '../../src/storage/statement-cache.js';
import { sqliteUrl } from '../helper.js';

t.test('one statement per SQL text; arguments passed per call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pv-stmt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Sqlite(join(dir, 'x.db'));
  t.teardown(() => db.close());
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');
  let prepared = 0;
  const original = db.prepare.bind(db);
  (db as { prepare: unknown }).prepare = (sql: string) => {
    prepared++;
    return original(sql);
  };
  reusePreparedStatements(db);
  reusePreparedStatements(db); // idempotent

  const insert = 'INSERT INTO t (id, name) VALUES (?, ?)';
  for (const [id, name] of [
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ] as const) {
    const bound = db.prepare(insert).bind([id, name]) as unknown as {
      reader: boolean;
      run(): { changes: number };
    };
    t.equal(bound.reader, false);
    t.equal(bound.run().changes, 1);
  }
  const select = 'SELECT id, name FROM t WHERE id >= ? ORDER BY id';
  const first = db.prepare(select).bind([2]) as unknown as {
    reader: boolean;
    columns(): { name: string }[];
    raw(): { all(): unknown[] };
  };
  t.equal(first.reader, true);
  t.same(
    first.columns().map((column) => column.name),
    ['id', 'name'],
  );
  t.same(first.raw().all(), [
    [2, 'b'],
    [3, 'c'],
  ]);
  const second = db.prepare(select).bind([3]) as unknown as { raw(): { all(): unknown[] } };
  t.same(second.raw().all(), [[3, 'c']], 'new arguments, same statement');
  t.equal(prepared, 2, 'two SQL texts, two prepares');
});

t.test('through Prisma’s adapter: raw SQL and the ORM still answer', async (t) => {
  const database = await openDatabase('sqlite', await sqliteUrl(t));
  t.teardown(() => database.close());
  const query = {
    sql: 'SELECT id, name FROM services WHERE id = ?',
    args: ['default'],
    argTypes: [{ scalarType: 'string' as const, arity: 'scalar' as const }],
  };
  for (let i = 0; i < 3; i++) {
    const result = await database.sql.queryRaw(query);
    t.same(result.rows, [['default', 'default']]);
  }
  const rows = await database.client.$queryRawUnsafe<{ id: string }[]>('SELECT id FROM services');
  t.same(
    rows.map((row) => row.id),
    ['default'],
  );
});
