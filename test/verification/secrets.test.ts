// Ids, pooled randomness and hashes: formats, uniqueness across pool refills, known vectors.
import t from 'tap';
import { hashCode, hashToken, newId, randomBytesPooled } from '../../src/verification/secrets.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('ids are UUIDv7: the creation time first, and each id sorts after the one before', async (t) => {
  const at = Date.UTC(2030, 0, 1); // later than any id made so far in this process
  const id = newId(at);
  t.match(id, UUID_V7);
  t.equal(
    Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16),
    at,
    'the first 48 bits are the milliseconds',
  );
  const later = Array.from({ length: 3_000 }, (_, i) => newId(at + 1 + Math.floor(i / 1_000)));
  const sameMs = Array.from({ length: 5_000 }, () => newId(at + 10)); // past 4,096: borrows the next ms
  const backwards = Array.from({ length: 10 }, () => newId(at)); // a clock that went back
  const ids = [id, ...later, ...sameMs, ...backwards];
  t.ok(
    ids.every((value) => UUID_V7.test(value)),
    'all are UUIDv7',
  );
  t.same([...ids].sort(), ids, 'in the order they were made, as text');
  t.equal(new Set(ids).size, ids.length, 'all distinct');
});

t.test('pooled random bytes: never handed out twice, across refills, and owned by the caller', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 1_000; i++) seen.add(randomBytesPooled(32).toString('hex')); // ~8 refills
  t.equal(seen.size, 1_000, 'all distinct');
  const first = randomBytesPooled(16);
  const copy = Buffer.from(first);
  randomBytesPooled(4096); // forces a refill of the pool
  t.same(first, copy, 'a refill does not change bytes already handed out');
  t.equal(randomBytesPooled(10_000).length, 10_000, 'larger than the pool');
});

t.test('hashes match their definitions', async (t) => {
  t.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256');
  t.equal(
    hashCode('key', 'The quick brown fox jumps over the lazy dog'),
    'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    'HMAC-SHA-256 (the widely published "quick brown fox" vector)',
  );
});
