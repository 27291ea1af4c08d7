// The example plugins of examples/plugins/, copied into a bare plugins folder the way a user
// mounts them into /plugins (no package.json, no node_modules), loaded through the real loader and
// driven over the HTTP API against local fakes: Vonage's /sms/json, and a webhook receiver.
import { createHmac } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import {
  buildWithPlugin,
  codeIn,
  EXAMPLES,
  fakeServer,
  type Received,
  start,
  tempDir,
  verify,
} from './plugin-support.js';

/**
 * examples/plugins/<file> copied into a fresh folder outside the repository. Copied as .mjs: the
 * TypeScript loader these tests run under takes a .js file outside any "type": "module" package
 * for CommonJS (plain Node detects its syntax; plugin-startup.test.ts covers that under node).
 */
function mounted(t: Test, ...files: string[]): string {
  const dir = tempDir(t);
  for (const file of files) copyFileSync(join(EXAMPLES, file), join(dir, file.replace(/\.js$/, '.mjs')));
  return dir;
}

const vonageAnswer = (status: string) => (received: Received) => ({
  status: 200,
  body: {
    'message-count': '1',
    messages: [
      {
        to: JSON.parse(received.raw).to,
        'message-id': 'msg-0001',
        status,
        ...(status === '0' ? {} : { 'error-text': 'Bad Credentials' }),
      },
    ],
  },
});

const VONAGE_OPTIONS = { KEY: 'vonage-key', SECRET: 'vonage-secret-value', FROM: 'PhoneVerify' };

t.test('nexmo.NexmoBackend sends through the Vonage SDK and verifies', async (t) => {
  const vonage = await fakeServer(t, vonageAnswer('0'));
  const target = await buildWithPlugin(
    t,
    'nexmo.NexmoBackend',
    { PHONE_VERIFICATION_OPTIONS: JSON.stringify({ ...VONAGE_OPTIONS, BASE_URL: vonage.url }) },
    mounted(t, 'nexmo.js'),
  );
  t.ok(target.app.backend instanceof BaseBackend);
  const { reply, body } = await start(target);
  t.equal(reply.statusCode, 201, reply.body);

  t.equal(vonage.received.length, 1);
  const request = vonage.received[0]!;
  t.equal(request.method, 'POST');
  t.equal(request.url, '/sms/json');
  t.equal(
    request.headers.authorization,
    `Basic ${Buffer.from('vonage-key:vonage-secret-value').toString('base64')}`,
  );
  const sent = JSON.parse(request.raw);
  t.match(sent, { to: '14155550100', from: 'PhoneVerify', text: /^Welcome to Phone Verify! Please use/ });

  const ok = await verify(target, body, codeIn(sent.text));
  t.equal(ok.statusCode, 200, ok.body);
  t.notMatch(target.logs.text, /vonage-secret-value/, 'the secret is not logged');
});

t.test('nexmo.NexmoBackend: a status Vonage refuses is a 502 backend_error', async (t) => {
  const vonage = await fakeServer(t, vonageAnswer('4'));
  const target = await buildWithPlugin(
    t,
    'nexmo.NexmoBackend',
    { PHONE_VERIFICATION_OPTIONS: JSON.stringify({ ...VONAGE_OPTIONS, BASE_URL: vonage.url }) },
    mounted(t, 'nexmo.js'),
  );
  const { reply } = await start(target);
  t.equal(reply.statusCode, 502);
  t.equal(reply.json().code, 'backend_error');
});

t.test('nexmo.NexmoSandboxBackend: a fixed code, and every code is valid', async (t) => {
  const vonage = await fakeServer(t, vonageAnswer('0'));
  const target = await buildWithPlugin(
    t,
    'nexmo.NexmoSandboxBackend',
    {
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({ ...VONAGE_OPTIONS, BASE_URL: vonage.url }),
      PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: '123456',
    },
    mounted(t, 'nexmo.js'),
  );
  const { reply, body } = await start(target);
  t.equal(reply.statusCode, 201, reply.body);
  t.equal(codeIn(JSON.parse(vonage.received[0]!.raw).text), '123456');
  for (const code of ['123456', '123456', '000000']) {
    const ok = await verify(target, body, code);
    t.equal(ok.statusCode, 200, `${code}: ${ok.body}`);
  }
});

t.test('the examples also load from the repository folder as they are', async (t) => {
  const vonage = await fakeServer(t, vonageAnswer('0'));
  const target = await buildWithPlugin(
    t,
    'nexmo.NexmoSandboxBackend',
    {
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({
        ...VONAGE_OPTIONS,
        BASE_URL: vonage.url,
        SANDBOX_TOKEN: '654321',
      }),
    },
    EXAMPLES,
  );
  t.ok(target.app.backend instanceof BaseBackend);
});

t.test('nexmo.NexmoBackend refuses to start without its options', async (t) => {
  await t.rejects(buildWithPlugin(t, 'nexmo.NexmoBackend', {}, mounted(t, 'nexmo.js')), {
    name: 'ConfigError',
    message: /nexmo\.mjs\) threw: options KEY, SECRET and FROM are required$/,
  });
});

t.test('webhook.WebhookBackend POSTs the message as signed JSON', async (t) => {
  const secret = 'webhook-shared-secret';
  const hook = await fakeServer(t, () => ({ status: 204, body: {} }));
  const target = await buildWithPlugin(
    t,
    'webhook.WebhookBackend',
    { PHONE_VERIFICATION_OPTIONS: JSON.stringify({ URL: `${hook.url}/sms`, SECRET: secret }) },
    mounted(t, 'webhook.js'),
  );
  const { reply, body } = await start(target);
  t.equal(reply.statusCode, 201, reply.body);

  t.equal(hook.received.length, 1);
  const request = hook.received[0]!;
  t.equal(request.method, 'POST');
  t.equal(request.url, '/sms');
  t.match(request.headers['content-type'], /^application\/json/);
  const payload = JSON.parse(request.raw);
  t.same(Object.keys(payload).sort(), ['message', 'phone_number']);
  t.equal(payload.phone_number, '+14155550100');
  const expected = createHmac('sha256', secret).update(request.raw).digest('hex');
  t.equal(request.headers['x-phone-verify-signature'], `sha256=${expected}`, 'HMAC-SHA256 of the raw body');

  const ok = await verify(target, body, codeIn(payload.message));
  t.equal(ok.statusCode, 200, ok.body);
  t.notMatch(target.logs.text, new RegExp(secret), 'the secret is not logged');
});

t.test('webhook.WebhookBackend: a non-2xx answer is a 502 backend_error', async (t) => {
  const hook = await fakeServer(t, () => ({ status: 500, body: { error: 'down' } }));
  const target = await buildWithPlugin(
    t,
    'webhook.WebhookBackend',
    { PHONE_VERIFICATION_OPTIONS: JSON.stringify({ URL: hook.url, SECRET: 's3cret-value' }) },
    mounted(t, 'webhook.js'),
  );
  const { reply } = await start(target);
  t.equal(reply.statusCode, 502);
  t.equal(reply.json().code, 'backend_error');
});
