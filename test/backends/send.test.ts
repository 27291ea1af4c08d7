// The send step: every send has a deadline (SEND_TIMEOUT for custom backends), and whatever a
// backend's sendSms does — never settle, take too long, throw something that is not an Error —
// the start answers 502 backend_error, the session is failed, the per-number slot is counted (the
// backend was reached), and the log line says what happened without anything secret.
import t, { type Test } from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import { describeFailure, sendChannel, sendWithDeadline } from '../../src/backends/send.js';
import { loadConfig } from '../../src/config.js';
import { startFakeVonage, vonageRefused } from '../fakes/vonage.js';
import { ODD_VALUES } from '../fixtures/odd-values.mjs';
import type { TestApp } from '../helper.js';
import { buildWithPlugin, EXAMPLES, outbox, start } from './plugin-support.js';

const FAILED_LINE = 'SMS backend failed to send; verification marked failed';

/** The one failure line of the start to `phoneNumber`. */
function failureLine(target: TestApp, phoneNumber: string) {
  const lines = target.logs.entries.filter(
    (entry) => entry.msg === FAILED_LINE && entry.phone_number === phoneNumber,
  );
  return lines.length === 1 ? lines[0]! : undefined;
}

async function expectFailedSession(t: Test, target: TestApp, phoneNumber: string) {
  const line = failureLine(target, phoneNumber);
  t.ok(line, 'one failure line');
  const view = await target.app.inject(`/v1/verifications/${line?.verification_id}`);
  t.equal(view.json().status, 'failed', 'the session is failed');
  return line?.err as Record<string, unknown> | undefined;
}

t.test('SEND_TIMEOUT: a window up to two minutes, 10 seconds by default', async (t) => {
  t.equal(loadConfig({}).sendTimeoutMs, 10_000);
  t.equal(loadConfig({ SEND_TIMEOUT: '2500' }).sendTimeoutMs, 2_500);
  t.equal(loadConfig({ SEND_TIMEOUT: '30 seconds' }).sendTimeoutMs, 30_000);
  for (const bad of ['0', 'soon', '3 minutes', '-1']) {
    t.throws(() => loadConfig({ SEND_TIMEOUT: bad }), { message: /^SEND_TIMEOUT: / }, bad);
  }
});

t.test('a plugin that never answers: 502 at SEND_TIMEOUT, failed, slot counted', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'stalls.StallingBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
    SEND_TIMEOUT: '300',
    PHONE_RATE_LIMIT_MAX: '1',
  });
  const { reply } = await start(target);
  t.equal(reply.statusCode, 502, reply.body);
  t.match(reply.json(), { code: 'backend_error', status: 502 });
  t.equal(box.sent().length, 1, 'the backend was reached');
  const err = await expectFailedSession(t, target, '+14155550100');
  t.match(err, { type: 'SendTimeout', code: 'ETIMEDOUT', message: /did not answer within 300 ms/ });
  const again = await start(target);
  t.equal(again.reply.statusCode, 429, 'the start that reached the backend took the number’s slot');
});

t.test('a plugin slower than SEND_TIMEOUT is cut at the deadline', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'slow.SlowBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
    PHONE_VERIFICATION_OPTIONS_DELAY_MS: '3000',
    SEND_TIMEOUT: '200',
  });
  const began = Date.now();
  const { reply } = await start(target);
  t.equal(reply.statusCode, 502);
  t.ok(Date.now() - began < 3000, 'answered before the backend finished');
  await expectFailedSession(t, target, '+14155550100');
  // Within the deadline the same backend succeeds.
  const quick = await buildWithPlugin(t, 'slow.SlowBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
    PHONE_VERIFICATION_OPTIONS_DELAY_MS: '20',
    SEND_TIMEOUT: '5 seconds',
  });
  t.equal((await start(quick)).reply.statusCode, 201);
});

t.test('whatever sendSms throws or rejects with: 502, failed, slot counted, a readable line', async (t) => {
  const target = await buildWithPlugin(t, 'throws-odd.OddThrowingBackend', { PHONE_RATE_LIMIT_MAX: '1' });
  for (const [index, [name]] of ODD_VALUES.entries()) {
    await t.test(name, async (t) => {
      const phoneNumber = `+141555501${String(index).padStart(2, '0')}`;
      const { reply } = await start(target, phoneNumber);
      t.equal(reply.statusCode, 502, reply.body);
      t.equal(reply.json().code, 'backend_error');
      const err = await expectFailedSession(t, target, phoneNumber);
      t.type(err?.type, 'string');
      t.type(err?.message, 'string');
      t.equal((await start(target, phoneNumber)).reply.statusCode, 429, 'the slot is counted');
    });
  }
  const log = target.logs.text;
  t.notMatch(log, /security code \d{6}/, 'no message text or code in the log');
  t.notOk(log.includes('"statusCode":500'), 'never a 500');
});

t.test('describeFailure never throws and keeps only loggable fields', async (t) => {
  const secrets = {
    number: '+14155550100',
    message: 'code 583920',
    code: '583920',
    credentials: ['hunter2-secret'],
  };
  for (const [name, make, how] of ODD_VALUES) {
    const value = make(secrets.message);
    if (how === 'return' && name !== 'a thenable whose then getter throws')
      (value as Promise<unknown>).catch(() => {});
    const failure = describeFailure(value, secrets);
    t.type(failure.type, 'string', name);
    t.notOk(failure.message.includes('583920'), `${name}: no code`);
  }
  t.same(
    describeFailure(Object.assign(new Error('refused hunter2-secret'), { code: 21, status: 400 }), secrets),
    {
      type: 'Error',
      message: 'refused [redacted]',
      code: '21',
      status: 400,
    },
  );
  // @vonage/server-sdk's refusal (MessageSendAllFailure): the provider's status and text, not the SDK's words.
  class MessageSendAllFailure extends Error {
    response = {
      messages: [{ status: '29', errorText: 'Non White-listed Destination - rejected: 14155550100' }],
    };
  }
  t.same(describeFailure(new MessageSendAllFailure('All SMS messages failed to send'), secrets), {
    type: 'MessageSendAllFailure',
    message: 'Non White-listed Destination - rejected: 1415*****00',
    code: '29',
  });
});

t.test('sendWithDeadline: the deadline timer is cleared when the backend answers', async (t) => {
  class Quick extends BaseBackend {
    override async sendSms() {
      return { id: 'm1' };
    }
  }
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const channel = sendChannel('quick', new Quick(), 60_000);
  t.equal(channel.deadlineMs, 60_000);
  const before = timers();
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, () =>
      sendWithDeadline(channel, { number: '+14155550100', message: 'm', code: '1' }),
    ),
  );
  t.match(outcomes[0], { ok: true, backend: 'quick', result: { id: 'm1' } });
  t.equal(timers(), before, 'no timer left behind');
});

t.test("a plugin sending through the Vonage SDK: a refusal logs Vonage's status and text", async (t) => {
  const fake = await startFakeVonage(t);
  fake.respond = (request) =>
    vonageRefused('29', `Non White-listed Destination - rejected: ${fake.json(request).to}`);
  const target = await buildWithPlugin(
    t,
    'nexmo.NexmoBackend',
    {
      PHONE_VERIFICATION_OPTIONS_KEY: 'a1b2c3d4',
      PHONE_VERIFICATION_OPTIONS_SECRET: 'vonage-secret-of-the-plugin',
      PHONE_VERIFICATION_OPTIONS_FROM: 'PhoneVerify',
      PHONE_VERIFICATION_OPTIONS_BASE_URL: fake.url,
      LOG_PHONE_NUMBERS: 'masked',
    },
    EXAMPLES,
  );
  const { reply } = await start(target);
  t.equal(reply.statusCode, 502);
  const line = target.logs.entries.find((entry) => entry.msg === FAILED_LINE);
  t.match(line, { phone_number: '+1415*****00' });
  t.same(line?.err, {
    type: 'MessageSendPartialFailure',
    message: 'Non White-listed Destination - rejected: 1415*****00',
    stack: '',
    code: '29',
  });
  t.notOk(target.logs.text.includes('vonage-secret-of-the-plugin'));
});
