// A database file the service cannot open or write stops the start with one line that names the
// path and says what to do (in the image: /data writable by uid 1000).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { migrate } from '../../../src/storage/migrate.js';
import { openSqlite } from '../../../src/storage/sqlite/database.js';
import { sqliteFilePath } from '../../../src/storage/sqlite/file.js';

const quiet = { info() {}, warn() {} };
const WAY_OUT = /writable by uid 1000, user node/;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pv-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('sqliteFilePath reads the path out of a file: URL', async (t) => {
  t.equal(sqliteFilePath('file:./data/pv.db'), './data/pv.db');
  t.equal(sqliteFilePath('file:/data/pv.db?mode=rwc'), '/data/pv.db');
});

t.test('a path that is a folder: the path and the way out', async (t) => {
  const dir = tempDir(t);
  const error = await openSqlite(`file:${dir}`, { timeoutMs: 1_000 }).catch((e: Error) => e);
  t.match(error, { code: 'SQLITE_CANTOPEN' });
  t.match(
    (error as Error).message,
    `cannot open the SQLite database ${dir} (DATABASE_URL): unable to open database file`,
  );
  t.match((error as Error).message, WAY_OUT);
  t.notMatch((error as Error).message, /\n/, 'one line');
});

t.test('a folder that cannot be made: migrations say so the same way', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'not-a-folder'), '');
  const file = join(dir, 'not-a-folder', 'pv.db');
  const error = await migrate('sqlite', `file:${file}`, quiet).catch((e: Error) => e);
  t.match((error as Error).message, `cannot open the SQLite database ${file} (DATABASE_URL): `);
  t.match((error as Error).message, WAY_OUT);
});

t.test(
  'a read-only database file (as a user without write access sees it)',
  { skip: process.getuid?.() === 0 && 'root can write anything' },
  async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'data'));
    chmodSync(join(dir, 'data'), 0o500);
    t.teardown(() => chmodSync(join(dir, 'data'), 0o700));
    const error = await migrate('sqlite', `file:${join(dir, 'data', 'pv.db')}`, quiet).catch((e: Error) => e);
    t.match((error as Error).message, WAY_OUT);
  },
);

t.test('the process prints it as its one line and exits 1', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: `file:${dir}`,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  t.equal(code, 1);
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, stderr);
  t.match(lines[0], `phone-verify: failed to start: cannot open the SQLite database ${dir} (DATABASE_URL)`);
  t.match(lines[0], WAY_OUT);
});
