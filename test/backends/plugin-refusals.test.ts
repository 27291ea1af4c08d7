// Custom backends the service refuses at start: each refusal is a ConfigError of one line that
// names the file or the export and the cause, raised through the service's start-up path.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createBackend } from '../../src/backends/registry.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildWithPlugin, FIXTURES, pluginsFolder, tempDir } from './plugin-support.js';

/** Starts the service with the plugin and returns the one-line ConfigError it stopped with. */
async function refusal(t: Test, backend: string, pluginsDir = FIXTURES, env: Record<string, string> = {}) {
  try {
    await buildWithPlugin(t, backend, env, pluginsDir);
  } catch (error) {
    t.type(error, ConfigError, 'a configuration error');
    const message = (error as Error).message;
    t.notMatch(message, /\n/, 'one line');
    return message;
  }
  t.fail(`${backend} was not refused`);
  return '';
}

const file = (name: string) => join(FIXTURES, name);
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('unknown module: names the variable and lists what PLUGINS_DIR has', async (t) => {
  for (const backend of ['nope.NopeBackend', 'nope']) {
    const message = await refusal(t, backend);
    t.match(message, /^PHONE_VERIFICATION_BACKEND: unknown backend "nope(\.NopeBackend)?"/);
    t.match(message, /no nope\.js, nope\.mjs, nope\.cjs in PLUGINS_DIR /);
    t.match(message, /it has: .*recorder-cjs\.cjs, recorder-default\.js, recorder\.mjs/);
  }
  const empty = await refusal(t, 'nope.NopeBackend', tempDir(t));
  t.match(empty, /it has no plugin files/);
});

t.test('PLUGINS_DIR that does not exist', async (t) => {
  const message = await refusal(t, 'recorder.RecorderBackend', join(tempDir(t), 'missing'));
  t.match(
    message,
    /^PHONE_VERIFICATION_BACKEND: unknown backend "recorder\.RecorderBackend": .*in PLUGINS_DIR \S*missing \(no such folder\)$/,
  );
});

t.test('missing export: lists the exports', async (t) => {
  t.match(
    await refusal(t, 'recorder.Nope'),
    new RegExp(
      `^PHONE_VERIFICATION_BACKEND: ${escaped(file('recorder.mjs'))} has no export "Nope" \\(its exports: RecorderBackend\\)$`,
    ),
  );
  t.match(
    await refusal(t, 'recorder-cjs.Nope'),
    new RegExp(
      `${escaped(file('recorder-cjs.cjs'))} has no export "Nope" \\(its exports: RecorderBackend\\)`,
    ),
  );
  t.match(
    await refusal(t, 'plain'),
    new RegExp(
      `${escaped(file('plain.mjs'))} has no default export \\(its exports: PlainBackend\\); name the class as "plain.ClassName"`,
    ),
  );
  t.match(
    await refusal(t, 'dynamic-cjs.Nope'),
    /dynamic-cjs\.cjs has no export "Nope" \(its exports: DynamicBackend\)$/,
    'CommonJS exports seen only at run time are listed too',
  );
  t.match(
    await refusal(t, 'recorder.mjs'),
    /has no export "mjs" .*; to use the default export, name the module alone: "recorder"/,
  );
  t.match(
    await refusal(t, 'recorder-cjs'),
    /the default export of .*recorder-cjs\.cjs is not a class: .*name one as "recorder-cjs\.RecorderBackend"/,
  );
});

t.test('not a class or constructor', async (t) => {
  t.match(
    await refusal(t, 'not-a-class.ObjectBackend'),
    new RegExp(
      `export ObjectBackend of ${escaped(file('not-a-class.mjs'))} is not a class: got a value of type object`,
    ),
  );
  t.match(
    await refusal(t, 'not-a-class.ArrowBackend'),
    /export ArrowBackend of .*not-a-class\.mjs is not a class: got a function that cannot be called with new/,
  );
  t.match(
    await refusal(t, 'not-a-class-cjs.ObjectBackend'),
    /export ObjectBackend of .*not-a-class-cjs\.cjs is not a class/,
  );
});

t.test('no sendSms', async (t) => {
  t.match(
    await refusal(t, 'no-send.NoSendBackend'),
    new RegExp(
      `class NoSendBackend \\(export NoSendBackend of ${escaped(file('no-send.mjs'))}\\) has no sendSms\\(number, message\\) method`,
    ),
  );
  t.match(
    await refusal(t, 'no-send-cjs.NoSendBackend'),
    /class NoSendBackend \(export NoSendBackend of .*no-send-cjs\.cjs\) has no sendSms/,
  );
});

t.test('syntax errors name the file and line', async (t) => {
  const body = [
    'export class Broken extends BaseBackend {',
    '  sendSms(number) {',
    '    return number +;',
    '  }',
    '}',
    '',
  ];
  const dir = pluginsFolder(t, {
    'broken.mjs': ["import { BaseBackend } from 'phone-verify';", ...body].join('\n'),
    'broken-js.js': ["import { BaseBackend } from 'phone-verify';", ...body].join('\n'),
    'broken-cjs.cjs': [
      "const { BaseBackend } = require('phone-verify');",
      'class Broken extends BaseBackend {',
      '  sendSms(number) {',
      '    return number +;',
      '  }',
      '}',
      'module.exports = { Broken };',
      '',
    ].join('\n'),
    'uses-broken.mjs': "import './helper.mjs';\nexport default class { sendSms() {} }\n",
    'helper.mjs': 'export const = 1;\n',
    'uses-broken-cjs.cjs': "require('./helper.cjs');\nmodule.exports = class { sendSms() {} };\n",
    'helper.cjs': 'exports.x = ;\n',
  });
  for (const name of ['broken.mjs', 'broken-js.js', 'broken-cjs.cjs']) {
    const module = name.replace(/\.[cm]?js$/, '');
    t.match(
      await refusal(t, `${module}.Broken`, dir),
      new RegExp(
        `^PHONE_VERIFICATION_BACKEND: ${escaped(join(dir, name))} has a syntax error at line 4: Unexpected token ';'$`,
      ),
      name,
    );
  }
  t.match(
    await refusal(t, 'uses-broken', dir),
    /uses-broken\.mjs failed to load: a module it imports has a syntax error: Unexpected token '='/,
  );
  t.match(
    await refusal(t, 'uses-broken-cjs', dir),
    new RegExp(
      `uses-broken-cjs\\.cjs failed to load: ${escaped(join(dir, 'helper.cjs'))} \\(line 1\\), which it imports, has a syntax error`,
    ),
  );
});

t.test('a missing dependency is told apart from a missing file', async (t) => {
  for (const name of ['missing-dep.mjs', 'missing-dep-cjs.cjs']) {
    const message = await refusal(t, `${name.replace(/\.[cm]?js$/, '')}.MissingDepBackend`);
    t.match(
      message,
      new RegExp(
        `^PHONE_VERIFICATION_BACKEND: ${escaped(file(name))} imports "not-installed-sms-sdk", which cannot be found; install it in PLUGINS_DIR`,
      ),
      name,
    );
    t.notMatch(message, /unknown backend/);
  }
  const dir = pluginsFolder(t, {
    'relative.mjs': "import './lib/gone.mjs';\nexport default class { sendSms() {} }\n",
  });
  t.match(
    await refusal(t, 'relative', dir),
    /relative\.mjs imports ".*lib\/gone\.mjs", which cannot be found$/,
  );
});

t.test('a constructor that throws', async (t) => {
  t.match(
    await refusal(t, 'throws.ThrowingBackend'),
    new RegExp(
      `new ThrowingBackend\\(options\\) \\(export ThrowingBackend of ${escaped(file('throws.mjs'))}\\) threw: option KEY is required$`,
    ),
  );
  t.match(
    await refusal(t, 'throws-cjs.ThrowingBackend'),
    /new ThrowingBackend\(options\) \(export ThrowingBackend of .*throws-cjs\.cjs\) threw: option KEY is required/,
  );
  const dir = pluginsFolder(t, {
    'leaky.mjs':
      'export default class { constructor(o) { throw new Error("rejected secret " + o.secret); } sendSms() {} }\n',
  });
  const message = await refusal(t, 'leaky', dir, {
    PHONE_VERIFICATION_OPTIONS_SECRET: 'hunter2-very-secret',
  });
  t.match(message, /threw: rejected secret \*\*\*$/);
  t.notMatch(message, /hunter2/, 'secret option values are not echoed');
});

t.test('other load failures', async (t) => {
  t.match(
    await refusal(t, 'wrong-import.WrongImportBackend'),
    /wrong-import\.mjs cannot be linked: .*'phone-verify' does not provide an export named 'BaseBackendd'/,
  );
  t.match(
    await refusal(t, 'fails-at-load'),
    /fails-at-load\.mjs failed to load: Error: cannot reach the SMS gateway at load time$/,
  );
  t.match(await refusal(t, 'twins'), /twins\.js and .*twins\.mjs both match "twins"; keep one of them/);
});

t.test('files resolve only inside PLUGINS_DIR', async (t) => {
  const outside = tempDir(t, 'pv-outside-');
  writeFileSync(join(outside, 'evil.mjs'), 'export default class { sendSms() {} }\n');
  const dir = pluginsFolder(t, {});
  symlinkSync(join(outside, 'evil.mjs'), join(dir, 'evil.mjs'));
  t.match(
    await refusal(t, 'evil', dir),
    new RegExp(
      `^PHONE_VERIFICATION_BACKEND: ${escaped(join(dir, 'evil.mjs'))} leads to .*evil\\.mjs, outside PLUGINS_DIR`,
    ),
  );
  mkdirSync(join(dir, 'folder.mjs'));
  t.match(await refusal(t, 'folder', dir), /folder\.mjs is not a file/);

  // The variable's own check stops path-like names before any file is looked at…
  for (const name of ['../evil', '/etc/passwd', 'sub/evil.Backend', '..', 'evil.js.Backend']) {
    t.throws(
      () => loadConfig({ PHONE_VERIFICATION_BACKEND: name, PLUGINS_DIR: dir }),
      { name: 'ConfigError', message: /^PHONE_VERIFICATION_BACKEND: expected/ },
      name,
    );
    // …and the loader refuses them on its own too.
    await t.rejects(
      createBackend(name, {}, { pluginsDir: dir }),
      {
        name: 'ConfigError',
        message: /^PHONE_VERIFICATION_BACKEND: ".*" is not "module\.ClassName" or "module"/,
      },
      name,
    );
  }
});
