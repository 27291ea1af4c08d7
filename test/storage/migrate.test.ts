// Migrations at start: applied offline, recorded as Prisma records them, once, under a lock.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { migrate, readMigrations } from '../../src/storage/migrate.js';
import { build, postgresAvailable, postgresUrl, postJson, runSql, startVerification } from '../helper.js';

const run = promisify(execFile);
const quiet = { info() {}, warn() {} };
const INIT = '20261125000000_init';
/** Every migration of the trees, in order: a fresh database gets them all, once. */
const ALL = readMigrations('sqlite').map((migration) => migration.name);

/** A path for a database that does not exist yet, in a folder that does not exist yet either. */
function freshSqliteUrl(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pv-migrate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return `file:${join(dir, 'nested', 'pv.db')}`;
}

t.test('migration files carry Prisma checksums', async (t) => {
  for (const kind of ['sqlite', 'postgresql'] as const) {
    const migrations = readMigrations(kind);
    t.equal(migrations[0]?.name, INIT);
    const sql = readFileSync(`prisma/${kind}/migrations/${INIT}/migration.sql`);
    t.equal(migrations[0]?.checksum, createHash('sha256').update(sql).digest('hex'));
  }
});

t.test('sqlite: applied once, recorded, in WAL mode', async (t) => {
  const url = freshSqliteUrl(t);
  t.same(await migrate('sqlite', url, quiet), ALL, 'creates the folder and applies');
  t.same(await migrate('sqlite', url, quiet), [], 'nothing the second time');
  const rows = await runSql(
    url,
    'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations',
  );
  t.equal(rows.length, ALL.length);
  t.equal(rows[0]!.checksum, readMigrations('sqlite')[0]!.checksum);
  t.equal(Number(rows[0]!.applied_steps_count), 1);
  t.ok(rows[0]!.finished_at);
  const [mode] = await runSql(url, 'PRAGMA journal_mode');
  t.equal(mode!.journal_mode, 'wal');
  const tables = (await runSql(url, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map(
    (r) => r.name,
  );
  t.same(tables, ['_prisma_migrations', 'send_attempts', 'services', 'verifications']);
});

t.test('sqlite: the official prisma migrate status agrees', async (t) => {
  const url = freshSqliteUrl(t);
  await migrate('sqlite', url, quiet);
  const { stdout } = await run(
    process.execPath,
    ['node_modules/prisma/build/index.js', 'migrate', 'status', '--config', 'prisma/sqlite/prisma.config.ts'],
    {
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    },
  );
  t.match(stdout, /Database schema is up to date/);
});

t.test('sqlite: replicas starting together migrate once', async (t) => {
  const url = freshSqliteUrl(t);
  mkdirSync(dirname(url.slice('file:'.length)), { recursive: true });
  const script = `import { migrate } from './src/storage/migrate.ts'; console.log(JSON.stringify(await migrate('sqlite', ${JSON.stringify(url)}, { info() {}, warn() {} })));`;
  const results = await Promise.all(
    [1, 2, 3].map(() =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]).then((r) =>
        JSON.parse(r.stdout),
      ),
    ),
  );
  t.same(results.flat(), ALL, 'exactly one process applied it');
  t.equal((await runSql(url, 'SELECT count(*) AS n FROM _prisma_migrations'))[0]!.n, ALL.length);
});

t.test('postgresql: concurrent migrations apply once', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const url = await postgresUrl(t);
  const results = await Promise.all([1, 2, 3, 4].map(() => migrate('postgresql', url, quiet)));
  t.same(results.flat(), ALL);
  const rows = await runSql(
    url,
    'SELECT migration_name, checksum, applied_steps_count, finished_at FROM _prisma_migrations ORDER BY migration_name',
  );
  t.equal(rows.length, ALL.length);
  t.equal(rows[0]!.checksum, readMigrations('postgresql')[0]!.checksum);
  t.ok(rows[0]!.finished_at);
  const [service] = await runSql(url, 'SELECT id FROM services');
  t.equal(service!.id, 'default');
});

t.test('postgresql: two instances on one database (migrations racing at start)', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const url = await postgresUrl(t);
  const [a, b] = await Promise.all([
    build(t, { env: { DATABASE_URL: url } }),
    build(t, { env: { DATABASE_URL: url } }),
  ]);
  const started = await startVerification(a!);
  const reply = await postJson(b!.app, '/v1/verifications/verify', {
    phone_number: started.phone_number,
    security_code: started.code,
    session_token: started.session_token,
  });
  t.equal(reply.statusCode, 200, 'started on one, verified on the other');
  t.equal((await b!.app.inject(`/v1/verifications/${started.id}`)).json().status, 'approved');
  t.equal((await runSql(url, 'SELECT count(*)::int AS n FROM _prisma_migrations'))[0]!.n, ALL.length);
});

t.test('MIGRATE_ON_START=false leaves the database alone', async (t) => {
  const url = freshSqliteUrl(t);
  mkdirSync(dirname(url.slice('file:'.length)), { recursive: true });
  const target = await build(t, { env: { DATABASE_URL: url, MIGRATE_ON_START: 'false' } });
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' });
  t.equal(reply.statusCode, 500, 'no tables: the service did not migrate');
});
