// The process refuses to start a provider backend with a missing option: exit 1 and one line on
// stderr naming the variable and the backend, never a secret value.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const SECRET = 'start-up-secret-never-printed';

function startService(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pv-startup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: `file:${join(dir, 'pv.db')}`,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  // Should it start after all, stop it: the test fails on the exit code, not on a stray process.
  const guard = setTimeout(() => child.kill('SIGTERM'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    });
  });
}

t.test('twilio without FROM', async (t) => {
  const { code, stderr } = await startService({
    PHONE_VERIFICATION_BACKEND: 'twilio',
    PHONE_VERIFICATION_OPTIONS_SID: 'AC0123456789abcdef0123456789abcdef',
    PHONE_VERIFICATION_OPTIONS_SECRET: SECRET,
  });
  t.equal(code, 1);
  t.equal(stderr, 'phone-verify: PHONE_VERIFICATION_OPTIONS_FROM: required by the twilio backend\n');
});

t.test('vonage-sandbox without SANDBOX_TOKEN, options in the JSON', async (t) => {
  const { code, stderr } = await startService({
    PHONE_VERIFICATION_BACKEND: 'vonage-sandbox',
    PHONE_VERIFICATION_OPTIONS: JSON.stringify({ KEY: 'abc123', SECRET, FROM: 'PhoneVerify' }),
  });
  t.equal(code, 1);
  t.equal(
    stderr,
    'phone-verify: PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: required by the vonage-sandbox backend\n',
  );
  t.notOk(stderr.includes(SECRET));
});
