// `npm run test:quick`: the suite without the files that start processes (the service, npm, tsc)
// or test PostgreSQL alone; the files that test both databases still run PostgreSQL when it
// answers. The list names what is left out, never what runs, so a new test file is in the quick
// run until it is added here. Arguments are passed on to tap (e.g. --reporter=terse).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Left out of the quick run, each with what makes it slow. */
const LEFT_OUT = {
  'test/server.test.ts': 'starts node dist/server.js and npm start',
  'test/backends/plugin-startup.test.ts': 'starts node dist/server.js with the plugins of docs/backends.md',
  'test/backends/plugin-typescript.test.ts': 'npm install, tsc, then node dist/server.js',
  'test/backends/startup.test.ts': 'starts src/server.ts through tsx',
  'test/cli/purge.test.ts': 'runs node dist/cli/purge.js',
  'test/docker/image-layout.test.ts': 'copies the production modules and starts the service',
  'test/storage/migrate.test.ts': 'runs the migrate CLI, both databases',
  'test/storage/durability.test.ts': 'kills spawned services under load',
  'test/storage/postgresql/pipeline.test.ts': 'PostgreSQL only',
  'test/storage/postgresql/deadlines.test.ts': 'PostgreSQL faults through a TCP proxy',
  'test/abuse/attacks-replicas.test.ts': 'PostgreSQL and Redis, two replicas',
};

const stale = Object.keys(LEFT_OUT).filter((file) => !existsSync(join(ROOT, file)));
if (stale.length > 0) {
  process.stderr.write(`test:quick: no such file ${stale.join(', ')}: update scripts/test-quick.mjs\n`);
  process.exit(2);
}
process.stderr.write(
  `test:quick leaves out ${Object.keys(LEFT_OUT).length} files (npm test runs them): ${Object.keys(LEFT_OUT).join(', ')}\n`,
);
const tap = join(ROOT, 'node_modules', '.bin', 'tap');
const args = [...Object.keys(LEFT_OUT).map((file) => `--exclude=${file}`), ...process.argv.slice(2)];
const child = spawn(tap, args, { cwd: ROOT, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
