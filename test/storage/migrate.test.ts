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
/** Every migration, in the order they apply (the same names in both trees). */
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
    t.same(
      migrations.map((migration) => migration.name),
      ALL,
      'both trees hold the same migrations',
    );
    for (const migration of migrations) {
      const sql = readFileSync(`prisma/${kind}/migrations/${migration.name}/migration.sql`);
      t.equal(migration.checksum, createHash('sha256').update(sql).digest('hex'));
    }
  }
});

t.test('sqlite: applied once, recorded, in WAL mode', async (t) => {
  const url = freshSqliteUrl(t);
  t.same(await migrate('sqlite', url, quiet), ALL, 'creates the folder and applies');
  t.same(await migrate('sqlite', url, quiet), [], 'nothing the second time');
  const rows = await runSql(
    url,
    'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
  );
  t.same(
    rows.map((row) => row.checksum),
    readMigrations('sqlite').map((migration) => migration.checksum),
  );
  for (const row of rows) {
    t.equal(Number(row.applied_steps_count), 1);
    t.ok(row.finished_at);
  }
  const [mode] = await runSql(url, 'PRAGMA journal_mode');
  t.equal(mode!.journal_mode, 'wal');
  const tables = (await runSql(url, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map(
    (r) => r.name,
  );
  t.same(tables, ['_prisma_migrations', 'idempotency_keys', 'send_attempts', 'services', 'verifications']);
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
  t.same(results.flat(), ALL, 'exactly one process applied them');
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
  t.same(
    rows.map((row) => row.checksum),
    readMigrations('postgresql').map((migration) => migration.checksum),
  );
  for (const row of rows) t.ok(row.finished_at);
  const [service] = await runSql(url, 'SELECT id FROM services');
  t.equal(service!.id, 'default');
});

/** The columns of `verifications`, on either database. */
async function verificationColumns(url: string): Promise<unknown[]> {
  const sql = url.startsWith('file:')
    ? "SELECT name FROM pragma_table_info('verifications')"
    : "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'verifications'";
  return (await runSql(url, sql)).map((column) => column.name);
}

for (const kind of ['sqlite', 'postgresql'] as const) {
  t.test(`${kind}: dropping a column keeps the sessions and sends the older schema holds`, async (t) => {
    if (kind === 'postgresql' && !(await postgresAvailable(t))) return;
    const url = kind === 'sqlite' ? freshSqliteUrl(t) : await postgresUrl(t);
    const migrations = readMigrations(kind);
    const drop = migrations.findIndex((m) => m.name === '20261204000000_drop_verification_idempotency_key');
    t.ok(drop > 0, 'the migration that drops verifications.idempotency_key');
    await migrate(kind, url, quiet, migrations.slice(0, drop));
    t.ok((await verificationColumns(url)).includes('idempotency_key'), 'the schema before it');
    // A session and its send as the version before wrote them (the dropped column filled too).
    const at = "'2026-12-01T10:00:00.000Z'";
    await runSql(
      url,
      `INSERT INTO verifications (id, service_id, phone_number, channel, status, token_hash, code_hash,
         failed_attempts, approvals, backend, idempotency_key, created_at, expires_at, updated_at)
       VALUES ('v-1', 'default', '+14155550100', 'sms', 'pending', 'token', 'code', 0, 0, 'console',
         'key-1', ${at}, ${at}, ${at})`,
    );
    await runSql(
      url,
      `INSERT INTO send_attempts (id, verification_id, channel, backend, status, created_at, updated_at)
       VALUES ('s-1', 'v-1', 'sms', 'console', 'sent', ${at}, ${at})`,
    );
    t.same(
      await migrate(kind, url, quiet),
      migrations.slice(drop).map((m) => m.name),
      'the upgrade applies the rest',
    );
    const [session] = await runSql(url, 'SELECT id, phone_number, status, token_hash FROM verifications');
    t.match(session, { id: 'v-1', phone_number: '+14155550100', status: 'pending', token_hash: 'token' });
    const [sends] = await runSql(url, 'SELECT count(*) AS n FROM send_attempts');
    t.equal(Number(sends!.n), 1, 'its send kept');
    t.notOk((await verificationColumns(url)).includes('idempotency_key'), 'the column is gone');
  });
}

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
