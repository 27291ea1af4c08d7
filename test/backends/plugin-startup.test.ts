// The production process with custom backends: `node dist/server.js` started with plugin files a
// new user wrote from docs/backends.md alone, in a temp folder, and driven over HTTP (JavaScript,
// and CommonJS); and every refusal under plain Node (no TypeScript loader: the way it runs in
// Docker), two of them as the process prints them: one line on stderr, exit code 1. The page's
// TypeScript recipe is plugin-typescript.test.ts.
import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { codeBlocks, readDoc } from '../docs.js';
import { type RecordedRequest, startRecordingServer } from '../fakes/recording-server.js';
import {
  BASE_ENV,
  ensureBuilt,
  SERVICE_ROOT,
  scratchDir,
  startRefused,
  startService,
} from '../service-process.js';

// Not plugin-support.js: it imports the whole app through tap's TypeScript loader (~1.5 s of CPU),
// which a test of the built process does not need.
const FIXTURES = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));

/** The digits of "security code NNN" in a message. */
function codeIn(message: string): string {
  const code = /security code (\d+)/.exec(message)?.[1];
  if (!code) throw new Error(`no security code in ${JSON.stringify(message)}`);
  return code;
}

const run = promisify(execFile);
t.before(ensureBuilt);

/** docs/backends.md's plugin files (plugins/…), written into a fresh folder outside the repository. */
function documentedPlugins(t: Test): string {
  const dir = scratchDir(t);
  for (const { path, body } of codeBlocks(readDoc('docs/backends.md').section('## Write your own backend'))) {
    if (path?.startsWith('plugins/')) appendFileSync(join(dir, path.slice('plugins/'.length)), body);
  }
  return dir;
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
  return startRecordingServer(t, (received: RecordedRequest) => ({
    status: 200,
    body: {
      'message-count': '1',
      messages: [{ to: JSON.parse(received.body).to, 'message-id': 'id-1', status: '0' }],
    },
  }));
}

t.test(
  "docs/backends.md's JavaScript plugin (ESM .js by syntax, in a bare folder) through the HTTP flow",
  async (t) => {
    const plugins = documentedPlugins(t);
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
    const sent = JSON.parse(vonage.requests[0]!.body);
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

t.test("docs/backends.md's sandbox: the fixed code, and any code verifies", async (t) => {
  const vonage = await fakeVonage(t);
  const service = await startService(t, {
    PLUGINS_DIR: documentedPlugins(t),
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
  t.equal(codeIn(JSON.parse(vonage.requests[0]!.body).text), '123456');
  for (const code of ['123456', '999999']) {
    const verified = await postJson(`${service.url}/v1/verifications/verify`, {
      phone_number: PHONE,
      session_token: started.body.session_token,
      security_code: code,
    });
    t.equal(verified.status, 200, `${code}: ${JSON.stringify(verified.body)}`);
  }
});

t.test("docs/backends.md's CommonJS class that does not extend BaseBackend", async (t) => {
  const relay = await startRecordingServer(t, () => ({ status: 202, body: {} }));
  const service = await startService(t, {
    PLUGINS_DIR: documentedPlugins(t),
    PHONE_VERIFICATION_BACKEND: 'sms-relay.SmsRelayBackend',
    PHONE_VERIFICATION_OPTIONS_RELAY: relay.url,
  });
  const started = await postJson(`${service.url}/v1/verifications`, { phone_number: PHONE });
  t.equal(started.status, 201, JSON.stringify(started.body));
  const { number, message } = JSON.parse(relay.requests[0]!.body);
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

/**
 * Loads each backend through the service's own registry (dist/) in one plain-Node process. A file,
 * not `node -e`: eval code gets `module` and `require` as globals, which a plugin would then see.
 */
const LOAD_EACH = `
import { createBackend } from ${JSON.stringify(pathToFileURL(join(SERVICE_ROOT, 'dist', 'backends', 'registry.js')).href)};
for (const [backend, pluginsDir] of JSON.parse(process.argv[2])) {
  try {
    await createBackend(backend, {}, { pluginsDir });
    console.log(JSON.stringify({ backend, loaded: true }));
  } catch (error) {
    console.log(JSON.stringify({ backend, name: error.name, message: error.message }));
  }
}`;

t.test('refusals under plain Node: one line naming the file or export and the cause', async (t) => {
  const bare = scratchDir(t);
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
    [
      'commonjs-as-js.CommonJsBackend',
      FIXTURES,
      /commonjs-as-js\.js is CommonJS \(it uses module\) but is loaded as an ES module, because \S+\/package\.json sets "type": "module"; rename it commonjs-as-js\.cjs/,
    ],
  ];
  const harness = join(scratchDir(t, 'pv-harness-'), 'load-each.mjs');
  writeFileSync(harness, LOAD_EACH);
  const { stdout } = await run(
    process.execPath,
    [harness, JSON.stringify(cases.map(([backend, dir]) => [backend, dir]))],
    { cwd: bare, env: BASE_ENV },
  );
  const results = new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { backend: string; name?: string; message?: string })
      .map((result) => [result.backend, result]),
  );
  for (const [backend, , pattern] of cases) {
    const result = results.get(backend);
    t.equal(result?.name, 'ConfigError', `${backend}: refused`);
    t.match(result?.message, /^PHONE_VERIFICATION_BACKEND: [^\n]+$/, `${backend}: one line`);
    t.match(result?.message, pattern, backend);
  }

  // As the process prints them: nothing on stdout, the line on stderr, exit code 1.
  await Promise.all(
    [cases[4]!, cases[8]!].map(async ([backend, dir, pattern]) => {
      const { code, stdout, stderr } = await startRefused(t, {
        PLUGINS_DIR: dir,
        PHONE_VERIFICATION_BACKEND: backend,
      });
      t.equal(code, 1, `${backend}: exit code`);
      t.equal(stdout, '', `${backend}: nothing on stdout`);
      t.match(stderr, /^phone-verify: PHONE_VERIFICATION_BACKEND: [^\n]+\n$/, `${backend}: one line`);
      t.match(stderr.trimEnd(), pattern, backend);
    }),
  );
});
