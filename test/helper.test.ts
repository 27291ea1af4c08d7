// The harness itself: a PostgreSQL or Redis that is not there is a real tap skip outside CI and a
// failure in CI. A tap file that needs both runs in a child tap against ports nothing listens on.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { refusingUrl } from './fakes/recording-server.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/services/needs-both.ts', import.meta.url));
const TAP = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));

async function runWithout(ci: boolean): Promise<{ code: number; output: string }> {
  const port = new URL(await refusingUrl()).port;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEST_POSTGRES_URL: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    TEST_REDIS_URL: `redis://127.0.0.1:${port}`,
  };
  delete env.CI;
  if (ci) env.CI = 'true';
  // The child reports in TAP; the parent run's own settings must not leak into it.
  for (const name of Object.keys(env)) if (name.startsWith('TAP')) delete env[name];
  return new Promise((resolve) => {
    execFile(TAP, ['--reporter=tap', '--disable-coverage', FIXTURE], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

t.test('outside CI: skipped and counted as skips, the run passes', async (t) => {
  const { code, output } = await runWithout(false);
  t.equal(code, 0, output);
  t.match(output, /ok \d+ - PostgreSQL not reachable at \S+: .* # SKIP/);
  t.match(output, /ok \d+ - Redis not reachable at \S+: .* # SKIP/);
  t.notMatch(output, /not ok/);
});

t.test('in CI: a failure that names the server', async (t) => {
  const { code, output } = await runWithout(true);
  t.not(code, 0, 'the run fails');
  t.match(output, /not ok \d+ - PostgreSQL not reachable at .*\(required in CI\)/);
  t.match(output, /not ok \d+ - Redis not reachable at .*\(required in CI\)/);
});
