// TRUST_PROXY over real HTTP: the service listens on 127.0.0.1 and each request arrives as it would
// through a load balancer on that address, with the X-Forwarded-For chain the proxies built. The
// per-IP limit must count each client behind the proxies apart, and an address a client forges at
// the left of the chain must not buy it a new budget.
import t, { type Test } from 'tap';
import { loadConfig } from '../src/config.js';
import { build } from './helper.js';

const UNKNOWN_ID = '/v1/verifications/00000000-0000-4000-8000-000000000000';

/** The service on a real port with RATE_LIMIT_MAX=2; get(xff) sends one request with that chain. */
async function listening(t: Test, trustProxy: string) {
  const target = await build(t, { env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: trustProxy } });
  const base = await target.app.listen({ port: 0, host: '127.0.0.1' });
  return async (forwardedFor?: string) => {
    const reply = await fetch(`${base}${UNKNOWN_ID}`, {
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    });
    await reply.arrayBuffer();
    return reply.status;
  };
}

t.test('TRUST_PROXY=1: one proxy hop, each client counted apart, a forged hop does not help', async (t) => {
  const get = await listening(t, '1');
  t.equal(await get('203.0.113.1'), 404);
  t.equal(await get('203.0.113.1'), 404);
  t.equal(await get('203.0.113.1'), 429, 'the first client has spent its budget');
  t.equal(await get('203.0.113.2'), 404, 'a second client behind the same proxy has its own');
  t.equal(
    await get('198.51.100.7, 203.0.113.1'),
    429,
    'the first client, prepending a forged address, is still the first client',
  );
  t.equal(await get('203.0.113.2'), 404);
  t.equal(await get('203.0.113.2'), 429);
});

t.test('TRUST_PROXY=2: two hops (CDN, then balancer); the address before them is the client', async (t) => {
  const get = await listening(t, '2');
  t.equal(await get('203.0.113.1, 10.0.0.5'), 404);
  t.equal(await get('203.0.113.1, 10.0.0.6'), 404, 'through another CDN node: the same client');
  t.equal(await get('203.0.113.1, 10.0.0.5'), 429);
  t.equal(await get('203.0.113.2, 10.0.0.5'), 404, 'another client');
  t.equal(await get('198.51.100.7, 203.0.113.1, 10.0.0.5'), 429, 'a forged left-most address does not help');
});

t.test('TRUST_PROXY as addresses/CIDRs or a named range: hops inside them are proxies', async (t) => {
  for (const setting of ['127.0.0.1', '127.0.0.0/8, 10.0.0.0/8', 'loopback, 10.0.0.0/8']) {
    await t.test(setting, async (t) => {
      const get = await listening(t, setting);
      t.equal(await get('203.0.113.1'), 404);
      t.equal(await get('203.0.113.2'), 404, 'another client');
      t.equal(await get('198.51.100.7, 203.0.113.1'), 404, 'the right-most untrusted address counts');
      t.equal(await get('203.0.113.1'), 429);
      if (setting.includes('10.0.0.0/8')) {
        t.equal(await get('203.0.113.2, 10.1.2.3'), 404, 'a trusted inner proxy is skipped');
        t.equal(await get('203.0.113.2'), 429);
      }
    });
  }
});

t.test('TRUST_PROXY=true trusts every hop: the left-most address is the client', async (t) => {
  const get = await listening(t, 'true');
  t.equal(await get('203.0.113.1, 10.0.0.5'), 404);
  t.equal(await get('203.0.113.1, 10.0.0.6'), 404);
  t.equal(await get('203.0.113.1'), 429);
  t.equal(await get('203.0.113.2, 10.0.0.5'), 404);
});

t.test('without TRUST_PROXY (and with 0) every X-Forwarded-For is ignored', async (t) => {
  for (const setting of ['false', '0']) {
    await t.test(setting, async (t) => {
      const get = await listening(t, setting);
      t.equal(await get('203.0.113.1'), 404);
      t.equal(await get('203.0.113.2'), 404);
      t.equal(await get('203.0.113.3'), 429, 'every client shares the peer address budget');
    });
  }
});

t.test('a TRUST_PROXY entry that is no address is refused at start, naming the variable', async (t) => {
  for (const bad of ['999.1.1.1', '10.0.0.0/33', 'fe80::/129', 'everyone', '10.0.0.1/8/1']) {
    t.throws(() => loadConfig({ TRUST_PROXY: bad }), { name: 'ConfigError', message: /^TRUST_PROXY: / }, bad);
  }
  t.same(loadConfig({ TRUST_PROXY: 'loopback, ::1, fd00::/8' }).trustProxy, ['loopback', '::1', 'fd00::/8']);
});
