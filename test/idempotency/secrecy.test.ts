// What an idempotency key leaves in the database, read straight from the table: neither the key nor
// the session token (nor the number) in plain text, only hashes and a sealed answer that opens with
// SERVER_SECRET and the key together. A replica with the same secret replays it; another secret, or
// none (a random one per process), cannot, and the client is told so without a second message.
import t from 'tap';
import { idempotentRequest } from '../../src/idempotency/request-key.js';
import { AnswerSealer } from '../../src/idempotency/sealed-answer.js';
import { build, DATABASES, databaseUrl } from '../helper.js';
import { keyRows, sends, start } from './support.js';

const NUMBER = { phone_number: '+14155550100' };
const SECRET = 'first-secret-0123456789-0123456789';
const ROTATED = 'second-secret-0123456789-0123456789';

for (const kind of DATABASES) {
  t.test(`${kind}: the stored row holds neither the key nor the token in plain text`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const target = await build(t, { env: { DATABASE_URL: url, SERVER_SECRET: SECRET } });
    const key = 'client-key-7f3e9b21';
    const reply = await start(target, NUMBER, key);
    const { id, session_token: token } = reply.json();
    const rows = await keyRows(url);
    t.equal(rows.length, 1);
    const row = rows[0]!;
    t.match(row, { status: 'done', response_status: 201, claim: null });
    t.match(row.key_hash, /^[0-9a-f]{64}$/, 'the key as a SHA-256 hash');
    t.match(row.fingerprint, /^[0-9a-f]{64}$/, 'the body as a SHA-256 hash');
    t.match(row.response, /^v1\.[A-Za-z0-9+/=]+$/, 'the answer sealed');
    const dump = JSON.stringify(rows);
    for (const [what, secret] of [
      ['the idempotency key', key],
      ['the session token', token],
      ['the session id', id],
      ['the phone number', NUMBER.phone_number],
      ['the phone number digits', NUMBER.phone_number.slice(1)],
    ]) {
      t.notOk(dump.includes(secret), `${what} is not in the row`);
    }
    const sealed = Buffer.from(row.response!.slice(3), 'base64').toString('latin1');
    t.notOk(sealed.includes(token), 'nor in the decoded bytes of the sealed answer');
  });
}

t.test(
  'a replica with the same SERVER_SECRET replays; after a rotation the answer no longer opens',
  async (t) => {
    const url = await databaseUrl(t, 'sqlite');
    const first = await build(t, { env: { DATABASE_URL: url!, SERVER_SECRET: SECRET } });
    const original = await start(first, NUMBER, 'k-rotation');
    t.equal(original.statusCode, 201);

    const sameSecret = await build(t, { env: { DATABASE_URL: url!, SERVER_SECRET: SECRET } });
    const replay = await start(sameSecret, NUMBER, 'k-rotation');
    t.equal(replay.body, original.body, 'another process with the secret replays the answer');
    t.equal(sends(sameSecret), 0);

    const rotated = await build(t, { env: { DATABASE_URL: url!, SERVER_SECRET: ROTATED } });
    const refused = await start(rotated, NUMBER, 'k-rotation');
    t.equal(refused.statusCode, 409);
    t.match(refused.json(), { code: 'idempotency_replay_unavailable', status: 409 });
    t.equal(refused.headers['retry-after'], undefined, 'retrying will not help: no Retry-After');
    t.notOk(refused.body.includes(original.json().session_token));
    t.equal(sends(rotated), 0, 'nothing is sent again');
    t.equal((await start(rotated, NUMBER, 'k-new-key')).statusCode, 201, 'a new key starts afresh');
    t.equal(sends(first), 1);
  },
);

t.test(
  'SERVER_SECRET unset: answers replay in the process that stored them only; sends stay deduplicated',
  async (t) => {
    const url = await databaseUrl(t, 'sqlite');
    const first = await build(t, { env: { DATABASE_URL: url! } });
    t.match(first.logs.text, /SERVER_SECRET is unset/, 'the start says so');
    const original = await start(first, NUMBER, 'k-no-secret');
    t.equal((await start(first, NUMBER, 'k-no-secret')).body, original.body, 'the same process replays');

    const restarted = await build(t, { env: { DATABASE_URL: url! } });
    const refused = await start(restarted, NUMBER, 'k-no-secret');
    t.equal(refused.json().code, 'idempotency_replay_unavailable');
    t.equal(sends(first) + sends(restarted), 1, 'still one message');
  },
);

t.test('a sealed answer opens only for its own key, scope and body, and not once altered', async (t) => {
  const sealer = new AnswerSealer(Buffer.from(SECRET));
  const request = idempotentRequest('k1', 'open', NUMBER);
  const answer = {
    status: 201,
    contentType: 'application/json; charset=utf-8',
    body: '{"session_token":"x"}',
  };
  const sealed = sealer.seal(request, answer);
  t.same(sealer.open(request, sealed), answer);
  t.not(sealer.seal(request, answer), sealed, 'a fresh IV each time');
  t.equal(sealer.open(idempotentRequest('k2', 'open', NUMBER), sealed), undefined, 'another key');
  t.equal(sealer.open(idempotentRequest('k1', 'other-tenant', NUMBER), sealed), undefined, 'another scope');
  t.equal(
    sealer.open(idempotentRequest('k1', 'open', { phone_number: '+1' }), sealed),
    undefined,
    'another body',
  );
  t.equal(new AnswerSealer(Buffer.from(ROTATED)).open(request, sealed), undefined, 'another secret');
  const bytes = Buffer.from(sealed.slice(3), 'base64');
  bytes[20] = bytes[20]! ^ 1;
  t.equal(sealer.open(request, `v1.${bytes.toString('base64')}`), undefined, 'one bit flipped');
  t.equal(sealer.open(request, 'v2.AAAA'), undefined, 'an unknown format');
});
