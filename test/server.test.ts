// The process as users run it: `node dist/server.js` and `npm start` — a start that fails prints
// one line on stderr and nothing else, whatever it logged before failing; ./.env is read and the
// environment wins over it; SIGTERM finishes in-flight requests (a keep-alive one included) and
// exits 0; a restart keeps pending verifications.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { ensureBuilt, SERVICE_ROOT, scratchDir, startRefused, startService } from './service-process.js';
import { eventually } from './tcp-proxy.js';

t.before(ensureBuilt);

const FIXTURES = fileURLToPath(new URL('fixtures/plugins/', import.meta.url));
const PHONE = '+14155550100';

function post(base: string, path: string, body: unknown) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A port something else already listens on (closed when the test ends). */
async function takenPort(t: Test): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

t.test('a start that fails prints one line on stderr, nothing on stdout, and exits 1', async (t) => {
  const dir = scratchDir(t);
  const database = { DATABASE_URL: `file:${dir}/pv.db` };
  // A .env in the working folder is read: its bad value stops the start like any other.
  const withDotEnv = scratchDir(t);
  writeFileSync(join(withDotEnv, '.env'), 'PHONE_VERIFICATION_TOKEN_LENGTH=six\n');
  const port = String(await takenPort(t));
  const cases: [string, Record<string, string>, RegExp, string?][] = [
    [
      'a bad number',
      { PHONE_VERIFICATION_TOKEN_LENGTH: 'abc' },
      /^phone-verify: PHONE_VERIFICATION_TOKEN_LENGTH: expected a whole number \(got "abc"\)$/,
    ],
    [
      'JSON that does not parse',
      { PHONE_VERIFICATION_OPTIONS: '{not json' },
      /^phone-verify: PHONE_VERIFICATION_OPTIONS: is not valid JSON/,
    ],
    // The "API_KEYS is unset" warning was logged before this refusal: it is not printed.
    [
      'an unknown backend, after a warning',
      { PHONE_VERIFICATION_BACKEND: 'carrier-pigeon' },
      /^phone-verify: PHONE_VERIFICATION_BACKEND: .*carrier-pigeon/,
    ],
    // "SMS backend ready" was logged before the database failed, here in the pretty format.
    [
      'an unreachable database, after info lines',
      { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', LOG_FORMAT: 'pretty' },
      /^phone-verify: failed to start: /,
    ],
    [
      'a port in use, after the whole start',
      { PORT: port },
      new RegExp(`^phone-verify: cannot listen on 127\\.0\\.0\\.1:${port} \\(PORT/HOST\\): .*EADDRINUSE`),
    ],
    [
      'a bad value in ./.env',
      {},
      /^phone-verify: PHONE_VERIFICATION_TOKEN_LENGTH: expected a whole number \(got "six"\)$/,
      withDotEnv,
    ],
  ];
  await Promise.all(
    cases.map(async ([name, env, expected, cwd]) => {
      const { code, stdout, stderr } = await startRefused(
        t,
        { LOG_LEVEL: 'info', ...database, ...env },
        { cwd },
      );
      t.equal(code, 1, `${name}: exit code 1`);
      t.equal(stdout, '', `${name}: nothing on stdout`);
      t.match(stderr, /^[^\n]*\n$/, `${name}: one line on stderr`);
      t.match(stderr.trimEnd(), expected, name);
    }),
  );
});

t.test(
  'SIGTERM answers what is in flight (a keep-alive request too) and exits 0; a restart under npm start keeps pending sessions',
  async (t) => {
    const dir = scratchDir(t);
    const database = { DATABASE_URL: `file:${dir}/pv.db` };
    const outbox = join(dir, 'outbox');
    // Read from ./.env: the pretty format; not its log level, which the environment sets.
    const cwd = scratchDir(t);
    writeFileSync(join(cwd, '.env'), 'LOG_FORMAT=pretty\nLOG_LEVEL=silent\n');
    const first = await startService(
      t,
      {
        ...database,
        LOG_LEVEL: 'info',
        LOG_PHONE_NUMBERS: 'full',
        PLUGINS_DIR: FIXTURES,
        PHONE_VERIFICATION_BACKEND: 'slow.SlowBackend',
        // Long enough that the keep-alive request is still in the backend when the signal lands,
        // though the test first waits for the burst to reach the backend too.
        PHONE_VERIFICATION_OPTIONS: JSON.stringify({ OUTBOX: outbox, DELAY_MS: 2_000 }),
      },
      { cwd },
    );
    t.match(
      first.output(),
      /^\[[\d-]+ [\d:.]+\] INFO: settings read from \.env \{"variables":\["LOG_FORMAT"\]\}$/m,
    );
    const sent = () => (existsSync(outbox) ? readFileSync(outbox, 'utf8').trim().split('\n') : []);

    const reply = await post(first.url, '/v1/verifications', { phone_number: PHONE });
    t.equal(reply.status, 201);
    const started = (await reply.json()) as { session_token: string };
    const code = /security code (\d+)/.exec(sent()[0] ?? '')?.[1];
    t.ok(code, 'the code was sent');

    // Node's server.close() closes only the connections idle at that moment. One whose request
    // is still running stays open after its answer (keep-alive) unless the service closes it, and
    // the process would wait for it until the grace period ends and exit 1.
    const keptAlive = post(first.url, '/v1/verifications', { phone_number: '+14155550101' });
    await eventually(() => sent().length >= 2, 'the keep-alive request in the backend', 30_000);
    t.equal(sent().length, 2, 'the keep-alive request is in the backend');
    // A burst in flight when the signal lands: every request that was accepted gets its answer.
    const burst = Array.from({ length: 20 }, (_, i) =>
      post(first.url, '/v1/verifications', {
        phone_number: `+1415555${String(200 + i).padStart(4, '0')}`,
      }).then(
        (reply) => reply.status,
        (error: Error) => `failed: ${error.message}`,
      ),
    );
    // The signal lands once the burst is in flight: at least one of its requests is in the backend
    // (a fixed few milliseconds were not enough for any to arrive on a busy machine).
    await eventually(() => sent().length >= 3, 'a request of the burst in the backend', 30_000);
    first.child.kill('SIGTERM');
    const answer = await keptAlive;
    t.equal(answer.status, 201, 'the keep-alive request in flight was answered');
    t.equal(answer.headers.get('connection'), 'close', 'and told its client the connection ends');
    const statuses = await Promise.all(burst);
    t.ok(
      statuses.every(
        (status) => status === 201 || status === 503 || String(status).startsWith('failed: fetch failed'),
      ),
      `answers: ${statuses.join(',')}`,
    );
    t.ok(
      statuses.some((status) => status === 201),
      'in-flight requests were finished',
    );
    t.equal(await first.exited, 0, 'exit code 0: no connection held the stop');
    t.match(first.output(), /INFO: stopped$/m, 'the pretty format, from .env');

    // The checkout's own .env, if a developer has one, is read here: the format is pinned.
    const second = await startService(
      t,
      { ...database, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      { command: ['npm', 'start', '--silent'], cwd: SERVICE_ROOT },
    );
    const verified = await post(second.url, '/v1/verifications/verify', {
      phone_number: PHONE,
      security_code: code,
      session_token: started.session_token,
    });
    t.equal(verified.status, 200, 'the session survived the restart');
    second.child.kill('SIGTERM');
    t.equal(await second.exited, 0, 'under npm start, SIGTERM reaches the service');
    t.match(second.output(), /"signal":"SIGTERM"/, 'the service itself saw the signal');
    t.match(second.output(), /"msg":"stopped"/);
    t.match(
      second.output(),
      /"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/,
      'JSON lines with ISO-8601 times',
    );
    await t.rejects(fetch(`${second.url}/healthz`), 'nothing listens any more');
  },
);
