// The code and the session token never reach the logs (the console backend's message line, whose
// whole point is to show the message in development, is the one exception).
import t from 'tap';
import { build, postJson, startVerification } from '../helper.js';

t.test('no token or code in any log line, even at trace level', async (t) => {
  const target = await build(t, { env: { PHONE_VERIFICATION_BACKEND: 'console', LOG_LEVEL: 'trace' } });
  const s = await startVerification(target);
  const wrong = s.code === '000000' ? '111111' : '000000';
  await postJson(target.app, '/v1/verifications/verify', {
    phone_number: s.phone_number,
    security_code: wrong,
    session_token: s.session_token,
  });
  await postJson(target.app, '/v1/verifications/verify', {
    phone_number: s.phone_number,
    security_code: s.code,
    session_token: s.session_token,
  });
  await postJson(target.app, '/v1/verifications/verify', {
    phone_number: s.phone_number,
    security_code: s.code,
    session_token: s.session_token,
  });
  await postJson(target.app, '/v1/verifications/verify', {
    phone_number: s.phone_number,
    security_code: 12,
    session_token: s.session_token,
  });

  const isConsoleMessage = (line: string) => {
    const entry = JSON.parse(line);
    return entry.backend === 'console' && typeof entry.message === 'string';
  };
  const others = target.logs.lines.filter((line) => !isConsoleMessage(line));
  t.ok(others.length >= 5, `${others.length} other log lines were written`);
  for (const line of others) {
    t.notOk(line.includes(s.session_token), 'no session token') || t.comment(line);
    t.notOk(line.includes(s.code), 'no code') || t.comment(line);
  }
  const consoleLines = target.logs.lines.filter(isConsoleMessage);
  t.equal(consoleLines.length, 1, 'the console backend logged the one message');
  t.notOk(consoleLines[0]!.includes(s.session_token), 'not even the console line has the token');
});
