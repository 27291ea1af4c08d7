// Custom backends that load: ESM (.mjs, .js) and CommonJS (.cjs, .js by syntax), named and default
// exports, classes that do not extend BaseBackend, django-phone-verify's sandbox recipe, a plugin's own
// node_modules — each started through the service's start-up path and driven over the HTTP API.
import { readFileSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { BaseBackend, usesBaseValidation } from '../../src/backends/base.js';
import { ConsoleBackend } from '../../src/backends/console.js';
import { buildWithPlugin, codeIn, FIXTURES, outbox, pluginsFolder, start, verify } from './plugin-support.js';

const PHONE = '+14155550100';

/** start → the recorded message → wrong code, right code, right code again. */
async function checkStoreBackedFlow(
  t: Test,
  backend: string,
  from: string,
  env: Record<string, string> = {},
) {
  const box = outbox(t);
  const target = await buildWithPlugin(t, backend, { PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file, ...env });
  t.ok(target.app.backend instanceof BaseBackend, 'the backend is a BaseBackend of this service');
  t.ok(usesBaseValidation(target.app.backend), 'codes are checked by the base (store-backed) validation');

  const { reply, body } = await start(target);
  t.equal(reply.statusCode, 201, reply.body);
  const sent = box.sent();
  t.equal(sent.length, 1, 'one message sent');
  t.equal(sent[0]?.from, from);
  t.equal(sent[0]?.number, PHONE);
  const code = codeIn(sent[0]!.message);

  const wrong = await verify(target, body, code === '000000' ? '111111' : '000000');
  t.equal(wrong.json().code, 'security_code_invalid');
  const ok = await verify(target, body, code);
  t.equal(ok.statusCode, 200, ok.body);
  t.equal(ok.json().status, 'approved');
  const again = await verify(target, body, code);
  t.equal(again.json().code, 'security_code_already_verified', 'single use still holds');
  return { target, sent };
}

t.test('ESM class extending BaseBackend, named export (recorder.RecorderBackend)', async (t) => {
  const { target } = await checkStoreBackedFlow(t, 'recorder.RecorderBackend', 'recorder.mjs');
  const { RecorderBackend } = await import(pathToFileURL(join(FIXTURES, 'recorder.mjs')).href);
  t.equal(Object.getPrototypeOf(RecorderBackend), BaseBackend, "'phone-verify' gave the service's own class");
  t.equal(target.app.backend.constructor, RecorderBackend);
});

t.test('ESM default export by bare module name (recorder)', async (t) => {
  await checkStoreBackedFlow(t, 'recorder', 'recorder.mjs');
});

t.test('ESM .js file with a default export (recorder-default)', async (t) => {
  await checkStoreBackedFlow(t, 'recorder-default', 'recorder-default.js');
});

t.test("CommonJS .cjs with require('phone-verify') (recorder-cjs.RecorderBackend)", async (t) => {
  await checkStoreBackedFlow(t, 'recorder-cjs.RecorderBackend', 'recorder-cjs.cjs');
  const { RecorderBackend } = await import(pathToFileURL(join(FIXTURES, 'recorder-cjs.cjs')).href);
  t.equal(Object.getPrototypeOf(RecorderBackend), BaseBackend, "require('phone-verify') gave the same class");
});

t.test('CommonJS as tsc emits it: exports.default with __esModule (transpiled)', async (t) => {
  await checkStoreBackedFlow(t, 'transpiled', 'transpiled.cjs');
});

t.test('CommonJS exports built at run time (dynamic-cjs.DynamicBackend)', async (t) => {
  await checkStoreBackedFlow(t, 'dynamic-cjs.DynamicBackend', 'dynamic-cjs.cjs');
});

t.test('CommonJS .js, detected by its syntax, outside any package', async (t) => {
  const dir = pluginsFolder(t, {
    'legacy.js': [
      "const { appendFileSync } = require('node:fs');",
      "const phoneVerify = require('phone-verify');",
      'class LegacyBackend extends phoneVerify.BaseBackend {',
      '  sendSms(number, message) {',
      "    appendFileSync(this.options.outbox, JSON.stringify({ from: 'legacy.js', number, message }) + '\\n');",
      '  }',
      '}',
      'module.exports = { LegacyBackend };',
      '',
    ].join('\n'),
  });
  const box = outbox(t);
  const target = await buildWithPlugin(
    t,
    'legacy.LegacyBackend',
    { PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file },
    dir,
  );
  t.equal(Object.getPrototypeOf(target.app.backend.constructor), BaseBackend);
  const { reply } = await start(target);
  t.equal(reply.statusCode, 201, reply.body);
  t.equal(box.sent()[0]?.from, 'legacy.js');
});

t.test('a class that does not extend BaseBackend gets the base behaviour (plain.PlainBackend)', async (t) => {
  const { target } = await checkStoreBackedFlow(t, 'plain.PlainBackend', 'plain.mjs', {
    PHONE_VERIFICATION_TOKEN_LENGTH: '8',
  });
  const backend = target.app.backend;
  t.match(backend.generateSecurityCode(), /^\d{8}$/, 'base generateSecurityCode honours TOKEN_LENGTH');
  t.type(backend.generateSessionToken(PHONE), 'string');
  t.equal(backend.SECURITY_CODE_VALID, 0, 'the seed-style constants are there');
  t.match(backend.options, { outbox: String });
  const outcomes = await backend.sendBulkSms(['+14155550101', '+14155550102'], 'hello');
  t.same(
    outcomes.map((outcome) => outcome.ok),
    [true, true],
    'base sendBulkSms calls its sendSms',
  );
});

t.test('an ES5 constructor function, CommonJS default export (plain-cjs)', async (t) => {
  await checkStoreBackedFlow(t, 'plain-cjs', 'plain-cjs.cjs');
});

t.test("the seed's sandbox recipe is honoured as written", async (t) => {
  for (const [backend, from] of [
    ['sandbox.SandboxBackend', 'sandbox.mjs'],
    ['plain-sandbox.PlainSandboxBackend', 'plain-sandbox.cjs'],
  ] as const) {
    await t.test(backend, async (t) => {
      const box = outbox(t);
      const target = await buildWithPlugin(t, backend, {
        PHONE_VERIFICATION_OPTIONS: JSON.stringify({ OUTBOX: box.file, SANDBOX_TOKEN: '424242' }),
        PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '2',
      });
      t.notOk(usesBaseValidation(target.app.backend), 'its own validateSecurityCode decides');
      const { reply, body } = await start(target);
      t.equal(reply.statusCode, 201, reply.body);
      const sent = box.sent();
      t.equal(sent[0]?.from, from);
      t.equal(codeIn(sent[0]!.message), '424242', 'its generateSecurityCode made the code');
      for (const code of ['424242', '424242', '000000', '999999', '123456']) {
        const ok = await verify(target, body, code);
        t.equal(ok.statusCode, 200, `${code} approves: ${ok.body}`);
      }
    });
  }
});

t.test("a plugin's own dependencies come from PLUGINS_DIR/node_modules", async (t) => {
  for (const [backend, from] of [
    ['with-dep.WithDepBackend', 'with-dep.mjs'],
    ['with-dep-cjs.WithDepBackend', 'with-dep-cjs.cjs'],
  ] as const) {
    await t.test(backend, async (t) => {
      const { sent } = await checkStoreBackedFlow(t, backend, from);
      t.equal(sent[0]?.via, 'fake-sms-lib');
    });
  }
});

t.test('PLUGINS_DIR may be relative to the working directory', async (t) => {
  await checkStoreBackedFlow(t, 'recorder.RecorderBackend', 'recorder.mjs', {
    PLUGINS_DIR: relative(process.cwd(), FIXTURES) || '.',
  });
});

t.test('a symlink that stays inside PLUGINS_DIR is fine', async (t) => {
  const box = outbox(t);
  const dir = pluginsFolder(t, {
    'versions-2.mjs': `export { RecorderBackend } from ${JSON.stringify(pathToFileURL(join(FIXTURES, 'recorder.mjs')).href)};\n`,
  });
  symlinkSync(join(dir, 'versions-2.mjs'), join(dir, 'current.mjs'));
  const target = await buildWithPlugin(
    t,
    'current.RecorderBackend',
    { PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file },
    dir,
  );
  t.ok(target.app.backend instanceof BaseBackend);
});

t.test('built-in names win over a plugin file of the same name', async (t) => {
  const dir = pluginsFolder(t, {
    'console.mjs': 'export default class { sendSms() { throw new Error("no"); } }\n',
  });
  const target = await buildWithPlugin(t, 'console', {}, dir);
  t.ok(target.app.backend instanceof ConsoleBackend);
});

t.test(
  'CommonJS named .js inside a "type": "module" package: refused with the way out, and loads as .cjs',
  async (t) => {
    // test/fixtures/plugins/ is inside this repository, whose package.json sets "type": "module".
    await t.rejects(buildWithPlugin(t, 'commonjs-as-js.CommonJsBackend'), {
      name: 'ConfigError',
      message:
        /^PHONE_VERIFICATION_BACKEND: \S+\/commonjs-as-js\.js is CommonJS \(it uses module\) but is loaded as an ES module, because \S+\/package\.json sets "type": "module"; rename it commonjs-as-js\.cjs/,
    });
    const renamed = pluginsFolder(t, {
      'package.json': '{"type": "module"}\n',
      'commonjs-as-js.cjs': readFileSync(join(FIXTURES, 'commonjs-as-js.js'), 'utf8'),
    });
    const target = await buildWithPlugin(t, 'commonjs-as-js.CommonJsBackend', {}, renamed);
    t.equal(target.app.backend.constructor.name, 'CommonJsBackend');
  },
);
