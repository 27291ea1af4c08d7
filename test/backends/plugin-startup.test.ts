// The production process with custom backends: `node dist/server.js` (built once, below) started
// with plugin files a new user wrote from the README alone, in a temp folder, and driven over HTTP
// (JavaScript, CommonJS, and a TypeScript plugin compiled with tsc); and every refusal printed as
// one line with a non-zero exit. Plain Node here, no TypeScript loader: the way it runs in Docker.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { sqliteUrl } from '../helper.js';
import { codeIn, FIXTURES, fakeServer, SERVICE_ROOT, tempDir } from './plugin-support.js';

// The child gets a clean environment: above all not NODE_OPTIONS, which carries tap's TS loader.
const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };

// Spawning services, compiling and building take a while on a busy machine.
t.setTimeout(300_000);

/** The newest modification time under a folder, for files matching a pattern. */
function newest(dir: string, pattern: RegExp): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !pattern.test(entry.name)) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

// dist/ must be this checkout's src/: compile it unless it is already newer than every source.
t.before(() => {
  const src = join(SERVICE_ROOT, 'src');
  const dist = join(SERVICE_ROOT, 'dist');
  if (existsSync(join(dist, 'server.js')) && newest(dist, /\.js$/) >= newest(src, /\.ts$/)) return;
  const [command, args] = existsSync(join(src, 'generated'))
    ? [
        process.execPath,
        [join(SERVICE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      ]
    : ['npm', ['run', 'build']];
  execFileSync(command as string, args as string[], { cwd: SERVICE_ROOT, env: BASE_ENV, stdio: 'pipe' });
});

/** The code blocks of README's "Write your own backend", keyed by the path on their first line. */
function readmeFiles(): Map<string, string> {
  const readme = readFileSync(join(SERVICE_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Write your own backend');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 3));
  const files = new Map<string, string>();
  for (const [, body] of section.matchAll(/```\w*\n([\s\S]*?)```/g)) {
    const path = /^\/\/ ((?:plugins|src)\/\S+|tsconfig\.json)/.exec(body!)?.[1];
    if (path) files.set(path, (files.get(path) ?? '') + body);
  }
  return files;
}

/** The README's plugin files, written into a fresh folder outside the repository. */
function readmePlugins(t: Test): string {
  const dir = tempDir(t);
  for (const [path, text] of readmeFiles()) {
    if (path.startsWith('plugins/')) appendFileSync(join(dir, path.slice('plugins/'.length)), text);
  }
  return dir;
}

interface Running {
  url: string;
  child: ChildProcess;
}

/** Starts `node dist/server.js` and resolves once it listens (stopped when the test ends). */
async function startService(t: Test, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: SERVICE_ROOT,
    env: {
      ...BASE_ENV,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL: await sqliteUrl(t),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      if (url) resolve({ url, child });
    });
    child.on('exit', (code) => reject(new Error(`service exited with ${code}: ${stderr.trim()}`)));
  });
}

/** Runs `node dist/server.js` expecting it to refuse; returns its exit code and stderr. */
async function runRefused(
  t: Test,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: SERVICE_ROOT,
    env: {
      ...BASE_ENV,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: await sqliteUrl(t),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

async function postJson(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const PHONE = '+14155550100';

/** Vonage's /sms/json, answering "sent". */
function fakeVonage(t: Test) {
  return fakeServer(t, (received) => ({
    status: 200,
    body: {
      'message-count': '1',
      messages: [{ to: JSON.parse(received.raw).to, 'message-id': 'id-1', status: '0' }],
    },
  }));
}

t.test(
  "README's JavaScript plugin (ESM .js by syntax, in a bare folder) through the HTTP flow",
  async (t) => {
    const plugins = readmePlugins(t);
    const vonage = await fakeVonage(t);
    const service = await startService(t, {
      PLUGINS_DIR: plugins,
      PHONE_VERIFICATION_BACKEND: 'nexmo.NexmoBackend',
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({
        KEY: 'k-1',
        SECRET: 's-1',
        FROM: 'PhoneVerify',
        BASE_URL: vonage.url,
      }),
    });
    const started = await postJson(`${service.url}/v1/verifications`, { phone_number: PHONE });
    t.equal(started.status, 201, JSON.stringify(started.body));
    const sent = JSON.parse(vonage.received[0]!.raw);
    t.match(sent, { to: '14155550100', from: 'PhoneVerify' });
    const verified = await postJson(`${service.url}/v1/verifications/verify`, {
      phone_number: PHONE,
      session_token: started.body.session_token,
      security_code: codeIn(sent.text),
    });
    t.equal(verified.status, 200, JSON.stringify(verified.body));
    t.equal(verified.body.status, 'approved');
  },
);

t.test("README's sandbox: the fixed code, and any code verifies", async (t) => {
  const vonage = await fakeVonage(t);
  const service = await startService(t, {
    PLUGINS_DIR: readmePlugins(t),
    PHONE_VERIFICATION_BACKEND: 'nexmo.NexmoSandboxBackend',
    PHONE_VERIFICATION_OPTIONS: JSON.stringify({
      KEY: 'k',
      SECRET: 's',
      FROM: 'PhoneVerify',
      SANDBOX_TOKEN: '123456',
      BASE_URL: vonage.url,
    }),
  });
  const started = await postJson(`${service.url}/v1/verifications`, { phone_number: PHONE });
  t.equal(started.status, 201, JSON.stringify(started.body));
  t.equal(codeIn(JSON.parse(vonage.received[0]!.raw).text), '123456');
  for (const code of ['123456', '999999']) {
    const verified = await postJson(`${service.url}/v1/verifications/verify`, {
      phone_number: PHONE,
      session_token: started.body.session_token,
      security_code: code,
    });
    t.equal(verified.status, 200, `${code}: ${JSON.stringify(verified.body)}`);
  }
});

t.test("README's CommonJS class that does not extend BaseBackend", async (t) => {
  const relay = await fakeServer(t, () => ({ status: 202, body: {} }));
  const service = await startService(t, {
    PLUGINS_DIR: readmePlugins(t),
    PHONE_VERIFICATION_BACKEND: 'sms-relay.SmsRelayBackend',
    PHONE_VERIFICATION_OPTIONS_RELAY: relay.url,
  });
  const started = await postJson(`${service.url}/v1/verifications`, { phone_number: PHONE });
  t.equal(started.status, 201, JSON.stringify(started.body));
  const { number, message } = JSON.parse(relay.received[0]!.raw);
  t.equal(number, PHONE);
  const wrong = await postJson(`${service.url}/v1/verifications/verify`, {
    phone_number: PHONE,
    session_token: started.body.session_token,
    security_code: '000000' === codeIn(message) ? '111111' : '000000',
  });
  t.equal(wrong.body.code, 'security_code_invalid', 'the base validation decides');
  const verified = await postJson(`${service.url}/v1/verifications/verify`, {
    phone_number: PHONE,
    session_token: started.body.session_token,
    security_code: codeIn(message),
  });
  t.equal(verified.status, 200, JSON.stringify(verified.body));
});

t.test("README's TypeScript plugin, compiled with tsc against the shipped declarations", async (t) => {
  const project = tempDir(t, 'pv-ts-plugin-');
  const files = readmeFiles();
  for (const path of ['tsconfig.json', 'src/sms-api.ts']) {
    t.ok(files.has(path), `README shows ${path}`);
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), files.get(path) ?? '');
  }
  // What `npm init -y && npm pkg set type=module` and `npm install --save-dev typescript @types/node
  // /path/to/phone-verify` leave behind: a package of type module, and linked packages.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sms-api-plugin', type: 'module' }));
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  symlinkSync(SERVICE_ROOT, join(project, 'node_modules', 'phone-verify'));
  symlinkSync(
    join(SERVICE_ROOT, 'node_modules', '@types', 'node'),
    join(project, 'node_modules', '@types', 'node'),
  );
  execFileSync(
    process.execPath,
    [join(SERVICE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project],
    {
      env: BASE_ENV,
      stdio: 'pipe',
    },
  );

  const plugins = tempDir(t);
  copyFileSync(join(project, 'dist', 'sms-api.js'), join(plugins, 'sms-api.js'));
  const api = await fakeServer(t, () => ({ status: 200, body: { id: 'sms-1' } }));
  const service = await startService(t, {
    PLUGINS_DIR: plugins,
    PHONE_VERIFICATION_BACKEND: 'sms-api.SmsApiBackend',
    PHONE_VERIFICATION_OPTIONS: JSON.stringify({ URL: `${api.url}/v1/messages`, TOKEN: 'tok-123' }),
  });
  const started = await postJson(`${service.url}/v1/verifications`, { phone_number: PHONE });
  t.equal(started.status, 201, JSON.stringify(started.body));
  const request = api.received[0]!;
  t.equal(request.headers.authorization, 'Bearer tok-123');
  const { to, text } = JSON.parse(request.raw);
  t.equal(to, PHONE);
  const code = /^(\d+) is your Phone Verify code\.$/.exec(text)?.[1];
  t.ok(code, `its generateMessage wrote ${JSON.stringify(text)}`);
  const verified = await postJson(`${service.url}/v1/verifications/verify`, {
    phone_number: PHONE,
    session_token: started.body.session_token,
    security_code: code,
  });
  t.equal(verified.status, 200, JSON.stringify(verified.body));
});

t.test('refusals: one line on stderr, exit code 1', async (t) => {
  const bare = tempDir(t);
  writeFileSync(
    join(bare, 'broken.js'),
    "import { BaseBackend } from 'phone-verify';\nexport class Broken extends BaseBackend {\n  sendSms(n) {\n    return n +;\n  }\n}\n",
  );
  const cases: [string, string, RegExp][] = [
    [
      'nope.NopeBackend',
      FIXTURES,
      /unknown backend "nope\.NopeBackend": .*no nope\.js, nope\.mjs, nope\.cjs in PLUGINS_DIR .*it has: /,
    ],
    ['recorder.Nope', FIXTURES, /recorder\.mjs has no export "Nope" \(its exports: RecorderBackend\)$/],
    ['not-a-class.ObjectBackend', FIXTURES, /export ObjectBackend of .*not-a-class\.mjs is not a class/],
    ['no-send-cjs.NoSendBackend', FIXTURES, /no-send-cjs\.cjs\) has no sendSms\(number, message\) method$/],
    ['broken.Broken', bare, /broken\.js has a syntax error at line 4: Unexpected token ';'$/],
    [
      'missing-dep.MissingDepBackend',
      FIXTURES,
      /missing-dep\.mjs imports "not-installed-sms-sdk", which cannot be found/,
    ],
    [
      'missing-dep-cjs.MissingDepBackend',
      FIXTURES,
      /missing-dep-cjs\.cjs imports "not-installed-sms-sdk", which cannot be found/,
    ],
    ['throws.ThrowingBackend', FIXTURES, /throws\.mjs\) threw: option KEY is required$/],
  ];
  await Promise.all(
    cases.map(async ([backend, dir, pattern]) => {
      const { code, stderr } = await runRefused(t, { PLUGINS_DIR: dir, PHONE_VERIFICATION_BACKEND: backend });
      t.equal(code, 1, `${backend}: exit code`);
      const lines = stderr.trimEnd().split('\n');
      t.equal(lines.length, 1, `${backend}: one line (${stderr.trim()})`);
      t.match(lines[0], /^phone-verify: PHONE_VERIFICATION_BACKEND: /, backend);
      t.match(lines[0], pattern, backend);
    }),
  );
});
