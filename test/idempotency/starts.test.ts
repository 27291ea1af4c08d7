// Idempotency-Key on POST /v1/verifications over HTTP (app.inject) on a real SQLite database: a
// retry answers as the first request did and sends nothing; another body is 422; keys are per API
// key; a key lives 24 hours; which answers are replayed and which run again; malformed keys.
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import t from 'tap';
import { build } from '../helper.js';
import { expireKeys, FAILING_BACKEND, keyRows, sends, start } from './support.js';

/** Writes a request as given on a new connection and reads the whole answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const NUMBER = { phone_number: '+14155550100' };
const API_KEY_A = 'client-a-key-0123456789';
const API_KEY_B = 'client-b-key-0123456789';

t.test(
  'a retry with the same key and body answers exactly as the first request did, sending nothing',
  async (t) => {
    const target = await build(t);
    const first = await start(target, NUMBER, 'order-1234');
    t.equal(first.statusCode, 201);
    t.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay');
    t.equal(sends(target), 1);

    for (let retry = 0; retry < 3; retry++) {
      const again = await start(target, NUMBER, 'order-1234');
      t.equal(again.statusCode, 201);
      t.equal(again.body, first.body, 'the same body, byte for byte: same id and session_token');
      t.equal(again.headers['content-type'], first.headers['content-type']);
      t.equal(again.headers['idempotent-replayed'], 'true');
      t.equal(again.headers['cache-control'], 'no-store', 'a replay holds a token too: not cached');
    }
    t.equal(sends(target), 1, 'the retries sent nothing');

    // The session is the one the first answer named, and it works with the replayed token.
    const { id, session_token } = first.json();
    const read = await target.app.inject({ url: `/v1/verifications/${id}` });
    t.equal(read.json().status, 'pending');
    const verify = await target.app.inject({
      method: 'POST',
      url: '/v1/verifications/verify',
      payload: { ...NUMBER, session_token, security_code: target.lastCode() },
    });
    t.equal(verify.statusCode, 200);

    const other = await start(target, NUMBER, 'order-5678');
    t.equal(other.statusCode, 201);
    t.not(other.json().id, id, 'another key is another start');
    t.equal(sends(target), 2);
    const none = await start(target, NUMBER, undefined);
    t.equal(none.statusCode, 201, 'without the header a start is an ordinary start');
    t.equal(sends(target), 3);
  },
);

t.test('the same body in another member order is the same request', async (t) => {
  const target = await build(t);
  const first = await start(target, { phone_number: '+14155550100', locale: 'de' }, 'k-order');
  const again = await start(target, { locale: 'de', phone_number: '+14155550100' }, 'k-order');
  t.equal(again.statusCode, 201);
  t.equal(again.body, first.body);
  t.equal(sends(target), 1);
});

t.test('the same key with another body is 422 idempotency_key_mismatch and sends nothing', async (t) => {
  const target = await build(t);
  const first = await start(target, NUMBER, 'k-mismatch');
  t.equal(first.statusCode, 201);
  for (const body of [
    { phone_number: '+14155550101' },
    { phone_number: '+1 (415) 555-0100' }, // another spelling is another body
    { ...NUMBER, locale: 'de' },
  ]) {
    const other = await start(target, body, 'k-mismatch');
    t.equal(other.statusCode, 422, JSON.stringify(body));
    t.match(other.headers['content-type'], /^application\/problem\+json/);
    t.match(other.json(), { code: 'idempotency_key_mismatch', status: 422 });
  }
  t.equal(sends(target), 1);
  const original = await start(target, NUMBER, 'k-mismatch');
  t.equal(original.body, first.body, 'the first answer is still replayed');
});

t.test('keys are per API key: two clients with one key value never see each other’s answers', async (t) => {
  const target = await build(t, { env: { API_KEYS: `${API_KEY_A},${API_KEY_B}` } });
  const as = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
  const a = await start(target, NUMBER, 'shared-key', as(API_KEY_A));
  const b = await start(target, NUMBER, 'shared-key', as(API_KEY_B));
  t.equal(a.statusCode, 201);
  t.equal(b.statusCode, 201);
  t.not(b.json().id, a.json().id, 'B started its own verification');
  t.not(b.json().session_token, a.json().session_token);
  t.equal(b.headers['idempotent-replayed'], undefined);
  t.equal(sends(target), 2);

  // Another body under B is no mismatch with A's request, and each replays its own.
  t.equal((await start(target, NUMBER, 'shared-key', as(API_KEY_A))).body, a.body);
  t.equal((await start(target, NUMBER, 'shared-key', as(API_KEY_B))).body, b.body);
  t.equal(sends(target), 2);
  const unauthorized = await start(target, NUMBER, 'shared-key');
  t.equal(unauthorized.statusCode, 401, 'no key, no answer');
  t.equal((await keyRows(target.config.databaseUrl)).length, 2, 'one row per client');
});

t.test('after 24 hours a key is free again: the retry is a new start', async (t) => {
  const target = await build(t);
  const first = await start(target, NUMBER, 'k-expiry');
  const [row] = await keyRows(target.config.databaseUrl);
  const lifetime = new Date(String(row!.expires_at)).getTime() - new Date(String(row!.created_at)).getTime();
  t.equal(lifetime, 24 * 60 * 60 * 1000, 'the key is kept 24 hours');

  await expireKeys(target.config.databaseUrl);
  const later = await start(target, { phone_number: '+14155550101' }, 'k-expiry');
  t.equal(later.statusCode, 201, 'another body is no mismatch once the key expired');
  t.not(later.json().id, first.json().id);
  t.equal(later.headers['idempotent-replayed'], undefined);
  t.equal(sends(target), 2);
  t.equal((await start(target, { phone_number: '+14155550101' }, 'k-expiry')).body, later.body);
  t.equal(sends(target), 2, 'and the new answer is replayed from then on');
});

t.test('the retention purge removes expired keys and keeps live ones', async (t) => {
  const target = await build(t);
  await start(target, NUMBER, 'k-purged');
  await expireKeys(target.config.databaseUrl);
  await start(target, NUMBER, 'k-live');
  const result = await target.app.retention.runNow();
  t.equal(result.idempotencyKeys, 1);
  t.equal((await keyRows(target.config.databaseUrl)).length, 1, 'the live key stays');
  t.equal((await start(target, NUMBER, 'k-live')).headers['idempotent-replayed'], 'true');
});

t.test('a failed send (502) is replayed: a retry never sends again', async (t) => {
  const target = await build(t, { env: { PHONE_VERIFICATION_BACKEND: FAILING_BACKEND } });
  const first = await start(target, NUMBER, 'k-502');
  t.equal(first.statusCode, 502);
  t.equal(first.json().code, 'backend_error');
  const again = await start(target, NUMBER, 'k-502');
  t.equal(again.statusCode, 502);
  t.equal(again.body, first.body);
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.equal(sends(target), 1, 'one attempt to send, however often the client retries');
});

t.test(
  'a refusal that does not depend on the moment is replayed; one that says "retry later" is not',
  async (t) => {
    const target = await build(t, {
      env: { PHONE_RATE_LIMIT_MAX: '1', ALLOWED_COUNTRIES: 'US' },
    });
    const invalid = await start(target, { phone_number: '12345' }, 'k-invalid');
    t.equal(invalid.json().code, 'invalid_phone_number');
    const invalidAgain = await start(target, { phone_number: '12345' }, 'k-invalid');
    t.equal(invalidAgain.body, invalid.body);
    t.equal(invalidAgain.headers['idempotent-replayed'], 'true');

    const abroad = await start(target, { phone_number: '+442071838750' }, 'k-country');
    t.equal(abroad.json().code, 'destination_not_allowed');
    t.equal(
      (await start(target, { phone_number: '+442071838750' }, 'k-country')).headers['idempotent-replayed'],
      'true',
    );

    t.equal((await start(target, NUMBER, undefined)).statusCode, 201, 'the number’s one start');
    const limited = await start(target, NUMBER, 'k-limited');
    t.equal(limited.statusCode, 429);
    t.ok(limited.headers['retry-after']);
    const rows = await keyRows(target.config.databaseUrl);
    t.equal(rows.length, 2, 'the 429 left no row: the key was given back');
    const limitedAgain = await start(target, NUMBER, 'k-limited');
    t.equal(limitedAgain.statusCode, 429, 'the retry ran again (and was limited again)');
    t.equal(limitedAgain.headers['idempotent-replayed'], undefined);
    t.equal(sends(target), 1);
  },
);

t.test('a malformed Idempotency-Key is 400 invalid_idempotency_key and sends nothing', async (t) => {
  const target = await build(t);
  for (const [what, key] of [
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a space', 'order 1'],
    ['a tab', 'order\t1'],
  ] as const) {
    const reply = await start(target, NUMBER, key);
    t.equal(reply.statusCode, 400, what);
    t.match(reply.json(), { code: 'invalid_idempotency_key', status: 400 }, what);
  }
  // Over a real connection: Node joins a header sent twice with ", " (app.inject joins with ",").
  await target.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = target.app.server.address() as AddressInfo;
  const twice = await rawRequest(
    port,
    `POST /v1/verifications HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${JSON.stringify(NUMBER).length}\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n` +
      `Connection: close\r\n\r\n${JSON.stringify(NUMBER)}`,
  );
  t.match(twice, /^HTTP\/1\.1 400 [\s\S]*"code":"invalid_idempotency_key"/, 'the header sent twice');
  const latin1 = await target.app.inject({
    method: 'POST',
    url: '/v1/verifications',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': Buffer.from('cl\xe9', 'latin1').toString('latin1'),
    },
    payload: JSON.stringify(NUMBER),
  });
  t.equal(latin1.json().code, 'invalid_idempotency_key', 'a character outside visible ASCII');
  t.equal(sends(target), 0);
  t.equal((await keyRows(target.config.databaseUrl)).length, 0);

  const longest = await start(target, NUMBER, `${'~'.repeat(127)}!${'k'.repeat(127)}`);
  t.equal(longest.statusCode, 201, '255 visible characters are a key');
  t.equal((await start(target, NUMBER, '!')).statusCode, 201, 'so is one');
  t.equal(sends(target), 2);
});

t.test('a body that fails validation claims no key', async (t) => {
  const target = await build(t);
  const bad = await start(target, { phone: '+14155550100' }, 'k-valid');
  t.equal(bad.json().code, 'validation_error');
  t.equal((await keyRows(target.config.databaseUrl)).length, 0);
  const good = await start(target, NUMBER, 'k-valid');
  t.equal(good.statusCode, 201, 'the corrected request runs');
  t.equal(sends(target), 1);
});

t.test('the OpenAPI document describes the header and its answers', async (t) => {
  const target = await build(t);
  const doc = (await target.app.inject('/openapi.json')).json();
  const operation = doc.paths['/v1/verifications'].post;
  const header = operation.parameters.find(
    (parameter: { in: string; name: string }) =>
      parameter.in === 'header' && parameter.name === 'Idempotency-Key',
  );
  t.ok(header, 'Idempotency-Key is a documented header');
  t.match(header.description, /24 hours/);
  t.ok(operation.responses['409'].content['application/problem+json'].examples.idempotency_key_in_use);
  t.ok(
    operation.responses['409'].content['application/problem+json'].examples.idempotency_replay_unavailable,
  );
  t.ok(operation.responses['422'].content['application/problem+json'].examples.idempotency_key_mismatch);
  t.ok(operation.responses['400'].content['application/problem+json'].examples.invalid_idempotency_key);
});
