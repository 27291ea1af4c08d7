// The dialects' statements: the same names with the same parameters in both, so one store serves
// both; and the compiler turns :named parameters into each driver's form.
import t from 'tap';
import { POSTGRESQL_SQL } from '../../src/storage/postgresql/sql.js';
import { SQLITE_SQL } from '../../src/storage/sqlite/sql.js';
import { compileSql, compileStatement } from '../../src/storage/statement.js';

t.test('both dialects define the same statements with the same parameters', async (t) => {
  const sqlite = compileSql('sqlite', SQLITE_SQL);
  const postgresql = compileSql('postgresql', POSTGRESQL_SQL);
  const shape = (sql: typeof sqlite) =>
    Object.fromEntries(
      Object.entries(sql).flatMap(([, statements]) =>
        Object.values(statements).map((statement) => [statement.name, [...statement.params].sort()]),
      ),
    );
  t.same(shape(postgresql), shape(sqlite));
  t.ok(Object.keys(shape(sqlite)).includes('verifications.checkCode'), 'named <group>.<statement>');
});

t.test(':name becomes @name on SQLite and $n on PostgreSQL; casts are left alone', async (t) => {
  const sql = 'SELECT :a::int AS x, :b AS y, :a AS z';
  t.same(compileStatement('sqlite', 's', sql), {
    name: 's',
    text: 'SELECT @a::int AS x, @b AS y, @a AS z',
    params: ['a', 'b'],
    reads: true,
  });
  t.same(compileStatement('postgresql', 's', sql), {
    name: 's',
    text: 'SELECT $1::int AS x, $2 AS y, $1 AS z',
    params: ['a', 'b'],
    reads: true,
  });
  t.equal(
    compileStatement('sqlite', 'u', 'UPDATE t SET a = 1 RETURNING a').reads,
    false,
    'RETURNING is a write',
  );
});
