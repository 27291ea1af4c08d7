// The process as users run it: `node dist/server.js` and `npm start` — start-up refusals in one
// line, SIGTERM drains and exits 0, a restart keeps pending verifications.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

const ENTRY = 'dist/server.js';

t.before(() => {
  // CI builds in `npm ci` (prepare); a developer may not have built yet.
  if (!existsSync(ENTRY)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startServer(
  t: Test,
  env: Record<string, string>,
  command: string[] = [process.execPath, ENTRY],
): Promise<Running> {
  const port = await freePort();
  const child = spawn(command[0]!, command.slice(1), {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_PHONE_NUMBERS: 'full',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: teardown kills npm *and* the node it started, never leaving an orphan
    // that holds this test's pipes open.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {} // the group is already gone
  });
  const base = `http://127.0.0.1:${port}`;
  // Generous: a loaded 2-core CI machine can take many seconds to start node and migrate.
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base, output: () => output, exited };
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not start:\n${output}`);
}

function dataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pv-server-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function refusal(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ENTRY], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

function post(base: string, path: string, body: unknown) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The code the console backend logged for a number (the log line may trail the HTTP answer). */
async function codeFrom(running: Running, phone: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const lines = running
      .output()
      .split('\n')
      .filter((line) => line.includes('"backend":"console"') && line.includes(phone));
    const code = /security code (\d+)/.exec(lines.at(-1) ?? '')?.[1];
    if (code) return code;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no code in output:\n${running.output()}`);
}

t.test('a bad configuration stops the start with one line and exit 1', async (t) => {
  const dir = dataDir(t);
  const cases: [Record<string, string>, RegExp][] = [
    [
      { PHONE_VERIFICATION_TOKEN_LENGTH: 'abc' },
      /^phone-verify: PHONE_VERIFICATION_TOKEN_LENGTH: expected a whole number \(got "abc"\)\n$/,
    ],
    [
      { PHONE_VERIFICATION_OPTIONS: '{not json' },
      /^phone-verify: PHONE_VERIFICATION_OPTIONS: is not valid JSON.*\n$/,
    ],
    [
      { PHONE_VERIFICATION_BACKEND: 'carrier-pigeon' },
      /^phone-verify: PHONE_VERIFICATION_BACKEND: .*carrier-pigeon.*\n$/,
    ],
    [{ DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' }, /^phone-verify: failed to start: .*\n$/],
  ];
  for (const [env, expected] of cases) {
    const { code, stderr } = await refusal({ DATABASE_URL: `file:${dir}/pv.db`, ...env });
    t.equal(code, 1, Object.keys(env).join(','));
    t.match(stderr, expected);
  }
});

t.test('SIGTERM drains in-flight requests and exits 0; a restart keeps pending sessions', async (t) => {
  const dir = dataDir(t);
  const env = { DATABASE_URL: `file:${dir}/pv.db` };
  const first = await startServer(t, env);
  const reply = await post(first.base, '/v1/verifications', { phone_number: '+14155550100' });
  const started = (await reply.json()) as { session_token: string };
  const code = await codeFrom(first, '+14155550100');

  // A burst in flight when the signal lands: every request that was accepted gets its answer.
  const burst = Array.from({ length: 20 }, (_, i) =>
    post(first.base, '/v1/verifications', {
      phone_number: `+1415555${String(200 + i).padStart(4, '0')}`,
    }).then(
      (reply) => reply.status,
      (error: Error) => `failed: ${error.message}`,
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  first.child.kill('SIGTERM');
  const statuses = await Promise.all(burst);
  t.equal(await first.exited, 0, 'exit code 0');
  t.ok(
    statuses.every(
      (status) => status === 201 || status === 503 || String(status).startsWith('failed: fetch failed'),
    ),
    `answers: ${statuses.join(',')}`,
  );
  t.ok(statuses.filter((status) => status === 201).length > 0, 'in-flight requests were finished');
  t.match(first.output(), /"msg":"stopped"/);

  const second = await startServer(t, env);
  const verified = await post(second.base, '/v1/verifications/verify', {
    phone_number: '+14155550100',
    security_code: code,
    session_token: started.session_token,
  });
  t.equal(verified.status, 200, 'the session survived the restart');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

t.test(
  'SIGTERM during a request on a keep-alive connection: it is answered, then the process exits 0',
  async (t) => {
    // Node's server.close() closes only the connections idle at that moment. One whose request was
    // still running stays open after its answer (keep-alive, 72 s) unless the service closes it,
    // and the process would wait for it until the grace period ends and exit 1.
    const dir = dataDir(t);
    const outbox = join(dir, 'outbox');
    const running = await startServer(t, {
      DATABASE_URL: `file:${dir}/pv.db`,
      PLUGINS_DIR: fileURLToPath(new URL('fixtures/plugins/', import.meta.url)),
      PHONE_VERIFICATION_BACKEND: 'slow.SlowBackend',
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({ OUTBOX: outbox, DELAY_MS: 500 }),
    });
    // fetch keeps the connection alive for the next request.
    const reply = post(running.base, '/v1/verifications', { phone_number: '+14155550100' });
    for (let i = 0; i < 100 && !(existsSync(outbox) && readFileSync(outbox, 'utf8')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.ok(readFileSync(outbox, 'utf8'), 'the request is in the backend');
    running.child.kill('SIGTERM');
    const answer = await reply;
    t.equal(answer.status, 201, 'the request in flight was answered');
    t.equal(answer.headers.get('connection'), 'close', 'and told its client the connection ends');
    t.equal(await running.exited, 0, 'exit code 0: no connection held the stop');
    t.match(running.output(), /"msg":"stopped"/);
  },
);

t.test('under npm start, SIGTERM reaches the service', async (t) => {
  const dir = dataDir(t);
  const running = await startServer(t, { DATABASE_URL: `file:${dir}/pv.db` }, ['npm', 'start', '--silent']);
  running.child.kill('SIGTERM');
  t.equal(await running.exited, 0);
  t.match(running.output(), /"signal":"SIGTERM"/, 'the service itself saw the signal');
  t.match(running.output(), /"msg":"stopped"/);
  await t.rejects(fetch(`${running.base}/healthz`), 'nothing listens any more');
});
