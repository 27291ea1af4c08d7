// The logger a backend gets: a careless plugin that logs its message and code through this.logger,
// in every shape pino takes, while several sends run at once, leaves neither in any log line.
import t from 'tap';
import { censoringLogger, SecretsInFlight } from '../../src/backends/backend-logger.js';
import { postJson } from '../helper.js';
import { buildWithPlugin, codeIn, outbox } from './plugin-support.js';

// biome-ignore lint/suspicious/noExplicitAny: a parsed log line, read field by field
type Logged = Record<string, any>;

t.test('codes and messages of concurrent sends never reach a line the backend logs', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'logs-message.LoggingBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
    PHONE_VERIFICATION_OPTIONS_DELAY_MS: '50',
  });
  const numbers = Array.from({ length: 6 }, (_, i) => `+1415555012${i}`);
  const replies = await Promise.all(
    numbers.map((phone_number) => postJson(target.app, '/v1/verifications', { phone_number })),
  );
  t.same(
    replies.map((reply) => reply.statusCode),
    numbers.map(() => 201),
  );
  const sent = box.sent();
  t.equal(sent.length, numbers.length, 'every message went out');

  const backendLines = target.logs.entries.filter((entry) =>
    ['sending', 'nested', 'an error', 'code', 'child logger', 'made a message'].some((msg) =>
      String(entry.msg).startsWith(msg),
    ),
  );
  t.ok(backendLines.length >= numbers.length * 5, `the backend's lines are written (${backendLines.length})`);
  const text = target.logs.text;
  for (const { message } of sent) {
    t.notOk(text.includes(message), 'no message text');
    t.notOk(text.includes(codeIn(message)), 'no code');
  }
  const first = target.logs.entries.find((entry) => entry.msg === 'sending');
  t.same(first?.text, '[message]', 'a field holding the message');
  const nested = target.logs.entries.find((entry) => entry.msg === 'nested') as Logged;
  t.same(nested?.request.body.parts, ['[message]', { code: '[redacted]' }], 'nested fields and arrays');
  t.match(nested?.request.body.to, /^\+1415555012\d$/, 'the rest of the line is kept');
  t.ok(
    target.logs.entries.some((entry) => entry.msg === 'sent [message]'),
    'the msg string',
  );
  t.ok(
    target.logs.entries.some((entry) => /^code \[redacted\] went to \+1415555012\d$/.test(String(entry.msg))),
    'printf arguments',
  );
  const error = target.logs.entries.find((entry) => entry.msg === 'an error') as Logged;
  t.match(error?.err, { message: 'provider echoed [message]', stack: /^Error: provider echoed \[message\]/ });
  t.ok(
    target.logs.entries.some((entry) => entry.numeric === '[redacted]'),
    'a code logged as a number',
  );
  t.ok(
    target.logs.entries.some((entry) => entry.component === 'careless' && entry.again === '[redacted]'),
    'a child logger censors too',
  );
  t.ok(
    target.logs.entries.some((entry) => entry.generated === '[redacted]'),
    'generateMessage runs with the code already held',
  );
});

t.test('SecretsInFlight: held while the send runs, gone once released', async (t) => {
  const secrets = new SecretsInFlight();
  const lines: [object, string | undefined][] = [];
  const write = (object: object, message?: string) => {
    lines.push([object, message]);
  };
  const logger = censoringLogger({ info: write, warn: write, error: write, debug: write }, secrets);
  const first = secrets.hold();
  first.holdCode('123456');
  first.holdMessage('Your code is 123456');
  const second = secrets.hold();
  second.holdCode('999000');
  logger.info({ a: 'Your code is 123456', b: ['999000'] }, 'x 123456');
  t.same(lines.pop(), [{ a: '[message]', b: ['[redacted]'] }, 'x [redacted]']);
  const at = new Date();
  logger.info({ at });
  t.equal((lines.pop()![0] as { at: Date }).at, at, 'a date is kept as it is');
  const hostile = new Proxy(
    {},
    {
      ownKeys: () => {
        throw new Error('trap');
      },
    },
  );
  logger.info({ hostile }, 'x');
  t.same(lines.pop(), [{}, 'a backend log line that could not be read'], 'a value that cannot be read');
  first.release();
  second.release();
  t.equal(secrets.size, 0, 'nothing held afterwards');
  const object = { a: '123456' };
  logger.info(object);
  t.equal(lines.pop()?.[0], object, 'with nothing in flight the line passes unchanged');
  const short = secrets.hold();
  short.holdCode('12');
  logger.info({ status: 'HTTP 412' });
  t.same(lines.pop()?.[0], { status: 'HTTP 412' }, 'a code under 3 characters would censor ordinary text');
  short.release();
  const late = secrets.hold();
  late.holdCode('424242');
  late.keepAfterRelease();
  late.release();
  logger.info({ late: '424242' });
  t.same(lines.pop()?.[0], { late: '[redacted]' }, 'a timed-out send is censored a while after it ended');
});
