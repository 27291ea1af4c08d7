import t from 'tap';
import { build, postgresAvailable, postgresUrl, postJson, startVerification } from './helper.js';

t.test('sqlite flow', async (t) => {
  const target = await build(t);
  const started = await startVerification(target);
  const ok = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: started.phone_number,
    security_code: started.code,
    session_token: started.session_token,
  });
  t.equal(ok.statusCode, 200, ok.body);
});

t.test('postgres flow', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const target = await build(t, { env: { DATABASE_URL: await postgresUrl(t) } });
  const started = await startVerification(target);
  const ok = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: started.phone_number,
    security_code: started.code,
    session_token: started.session_token,
  });
  t.equal(ok.statusCode, 200, ok.body);
  const again = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: started.phone_number,
    security_code: started.code,
    session_token: started.session_token,
  });
  t.equal(again.json().code, 'security_code_already_verified');
});
