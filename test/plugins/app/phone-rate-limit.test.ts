// The per-number limit on starts: keyed on the normalised number, counting every start that
// reached the backend (sent or failed) and none that the service failed before it.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ConsoleBackend } from '../../../src/backends/console.js';
import { builtInBackends } from '../../../src/backends/registry.js';
import { build, postJson } from '../../helper.js';

/** The console backend, made to fail on demand: before the send, or in it. */
class ControlledBackend extends ConsoleBackend {
  constructor(readonly control: { failSend: boolean; failBeforeSend: boolean }) {
    super({});
  }
  override generateSecurityCode() {
    if (this.control.failBeforeSend) throw new Error('code generator broke');
    return super.generateSecurityCode();
  }
  override sendSms(number: string, message: string): void {
    if (this.control.failSend) throw new Error('provider refused');
    super.sendSms(number, message);
  }
}

function controlledBackend() {
  const control = { failSend: false, failBeforeSend: false };
  const name = `controlled-${randomBytes(4).toString('hex')}`;
  builtInBackends[name] = () => new ControlledBackend(control);
  return { name, control };
}

t.test('every spelling of one number spends the same budget', async (t) => {
  const { app } = await build(t, { env: { PHONE_RATE_LIMIT_MAX: '2', PHONE_RATE_LIMIT_WINDOW: '1 hour' } });
  const first = await postJson(app, '/v1/verifications', { phone_number: '+14155550100' });
  t.equal(first.statusCode, 201, first.body);
  const second = await postJson(app, '/v1/verifications', { phone_number: '+1 (415) 555-0100' });
  t.equal(second.statusCode, 201, second.body);
  const third = await postJson(app, '/v1/verifications', { phone_number: '001 415 555 0100' });
  t.equal(third.statusCode, 429, third.body);
  t.match(third.headers['content-type'], /^application\/problem\+json/);
  t.match(third.json(), { status: 429, code: 'rate_limited' });
  const retryAfter = Number(third.headers['retry-after']);
  t.ok(retryAfter > 0 && retryAfter <= 3600, `Retry-After ${retryAfter} lies within the window`);
  t.equal(third.headers['x-ratelimit-limit'], '2');
  t.equal(third.headers['x-ratelimit-remaining'], '0');
  t.equal(third.headers['x-ratelimit-reset'], third.headers['retry-after']);

  const other = await postJson(app, '/v1/verifications', { phone_number: '+14155550199' });
  t.equal(other.statusCode, 201, 'another number has its own budget');
});

t.test('a refused number does not spend the budget', async (t) => {
  const { app } = await build(t, { env: { PHONE_RATE_LIMIT_MAX: '1' } });
  const invalid = await postJson(app, '/v1/verifications', { phone_number: '+1 555' });
  t.equal(invalid.json().code, 'invalid_phone_number');
  const started = await postJson(app, '/v1/verifications', { phone_number: '+14155550100' });
  t.equal(started.statusCode, 201);
});

t.test('failed sends count; failures of the service before the send do not', async (t) => {
  const { name, control } = controlledBackend();
  const { app } = await build(t, {
    env: { PHONE_VERIFICATION_BACKEND: name, PHONE_RATE_LIMIT_MAX: '2' },
  });
  const start = () => postJson(app, '/v1/verifications', { phone_number: '+14155550100' });

  control.failBeforeSend = true;
  for (let i = 0; i < 3; i++) {
    const reply = await start();
    t.equal(reply.statusCode, 500, 'the service failed before the backend');
    t.equal(reply.json().code, 'internal_error');
  }

  control.failBeforeSend = false;
  control.failSend = true;
  const failed = await start();
  t.equal(failed.statusCode, 502, 'the backend failed');
  t.equal(failed.json().code, 'backend_error');

  control.failSend = false;
  t.equal((await start()).statusCode, 201, 'the 500s gave their slots back: one left after the 502');
  const limited = await start();
  t.equal(limited.statusCode, 429, 'the 502 and the 201 used the budget of 2');
  t.equal(limited.json().code, 'rate_limited');
});

t.test('the per-number limit answers before any code is made or sent', async (t) => {
  const target = await build(t, {
    env: { PHONE_VERIFICATION_BACKEND: 'console', PHONE_RATE_LIMIT_MAX: '1' },
  });
  t.equal(
    (await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' })).statusCode,
    201,
  );
  const sentBefore = target.logs.entries.filter((entry) => entry.backend === 'console').length;
  t.equal(
    (await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' })).statusCode,
    429,
  );
  const sentAfter = target.logs.entries.filter((entry) => entry.backend === 'console').length;
  t.equal(sentAfter, sentBefore, 'no message went out for the limited start');
});
