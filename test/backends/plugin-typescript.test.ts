// docs/backends.md's "In TypeScript" recipe, run as written: its shell commands (npm init, npm install of
// typescript, @types/node and the checkout, npx tsc, cp) in a fresh folder, its tsconfig.json and
// src/sms-api.ts, then the compiled plugin loaded by the real service (node dist/server.js) and
// driven over HTTP. npm installs from a local registry serving this checkout's own typescript and
// @types/node (test/fakes/npm-registry.ts): a recipe that asks for another major fails to install.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { codeBlocks, readDoc } from '../docs.js';
import { startNpmRegistry } from '../fakes/npm-registry.js';
import { startRecordingServer } from '../fakes/recording-server.js';
import { BASE_ENV, ensureBuilt, SERVICE_ROOT, scratchDir, startService } from '../service-process.js';

const run = promisify(execFile);
t.setTimeout(300_000);
t.before(ensureBuilt);

const section = readDoc('docs/backends.md').section('### In TypeScript');
const blocks = codeBlocks(section);
const shell = blocks.filter((block) => block.language === 'sh');
const files = blocks.filter((block) => block.path);

t.test('the recipe shows two shell steps and the two files', async (t) => {
  t.equal(shell.length, 2, 'set-up, then build');
  t.same(files.map((file) => file.path).sort(), ['src/sms-api.ts', 'tsconfig.json']);
  // The local registry has TypeScript 5, which would infer it; 6 and later stop with TS5011.
  const tsconfig = JSON.parse(
    files.find((file) => file.path === 'tsconfig.json')!.body.replace(/^\/\/.*\n/, ''),
  );
  t.match(tsconfig.compilerOptions, { rootDir: 'src', outDir: 'dist' }, 'rootDir is explicit');
  t.match(shell[0]!.body, /npm install --save-dev typescript@\d+ @types\/node@\d+ /, 'majors are pinned');
});

t.test(
  "docs/backends.md's TypeScript plugin: the commands and files as written, then the service",
  async (t) => {
    const work = scratchDir(t, 'pv-ts-recipe-');
    mkdirSync(join(work, 'plugins'));
    const modules = join(SERVICE_ROOT, 'node_modules');
    const registry = await startNpmRegistry(
      t,
      [join(modules, 'typescript'), join(modules, '@types', 'node'), join(modules, 'undici-types')],
      work,
    );
    const env = {
      ...BASE_ENV,
      HOME: work,
      npm_config_registry: registry.url,
      npm_config_cache: join(work, '.npm-cache'),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      // Never the checkout's `prepare` (a build of dist/ while other tests run from it).
      npm_config_ignore_scripts: 'true',
    };
    const sh = async (script: string, cwd: string) => {
      try {
        await run('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, maxBuffer: 16 * 1024 * 1024 });
      } catch (error) {
        const { stdout, stderr } = error as { stdout: string; stderr: string };
        throw new Error(`${script}\nfailed:\n${stdout}${stderr}`);
      }
    };

    // 1. the set-up commands, with the checkout's real path
    const setUp = shell[0]!.body.replaceAll('/path/to/phone-verify', SERVICE_ROOT);
    await sh(setUp, work);
    const project = join(work, /^mkdir (\S+) && cd \1$/m.exec(setUp)![1]!);
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    t.equal(manifest.type, 'module');
    t.match(manifest.devDependencies, {
      typescript: String,
      '@types/node': String,
      'phone-verify': /^file:/,
    });
    t.ok(registry.requested.includes('/typescript'), 'npm asked the (local) registry for typescript');

    // 2. the files, as the page shows them
    for (const file of files) {
      mkdirSync(dirname(join(project, file.path!)), { recursive: true });
      writeFileSync(join(project, file.path!), file.body);
    }

    // 3. the build step: npx tsc, and the copy into ../plugins
    const build = shell[1]!.body;
    await sh(build, project);
    t.ok(existsSync(join(work, 'plugins', 'sms-api.js')), 'the compiled plugin is in the plugins folder');

    // 4. the service, configured as the page's comment lines say, against a fake SMS API
    const backend = /^# PHONE_VERIFICATION_BACKEND=(\S+)$/m.exec(build)?.[1];
    t.equal(backend, 'sms-api.SmsApiBackend');
    const options = JSON.parse(/^# PHONE_VERIFICATION_OPTIONS='(.*)'$/m.exec(build)![1]!);
    t.same(Object.keys(options), ['URL', 'TOKEN']);
    const api = await startRecordingServer(t, () => ({ status: 200, body: { id: 'sms-1' } }));
    const service = await startService(t, {
      DATABASE_URL: `file:${join(work, 'pv.db')}`,
      PLUGINS_DIR: join(work, 'plugins'),
      PHONE_VERIFICATION_BACKEND: backend!,
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({ URL: `${api.url}/v1/messages`, TOKEN: 'tok-123' }),
    });
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };
    const started = await post('/v1/verifications', { phone_number: '+14155550100' });
    t.equal(started.status, 201, JSON.stringify(started.body));
    const request = api.requests[0]!;
    t.equal(request.path, '/v1/messages');
    t.equal(request.headers.authorization, 'Bearer tok-123');
    const { to, text } = JSON.parse(request.body);
    t.equal(to, '+14155550100');
    const code = /^(\d+) is your Phone Verify code\.$/.exec(text)?.[1];
    t.ok(code, `its generateMessage wrote ${JSON.stringify(text)}`);
    const verified = await post('/v1/verifications/verify', {
      phone_number: '+14155550100',
      session_token: started.body.session_token,
      security_code: code,
    });
    t.equal(verified.status, 200, JSON.stringify(verified.body));
  },
);
