// The core's guarantees under concurrent requests, on SQLite and PostgreSQL: a single-use code
// approves exactly once, the attempt lock counts exactly MAX wrong codes, and concurrent starts for
// one number never cancel the newest session.
import type { Test } from 'tap';
import t from 'tap';
import { VerificationService } from '../../src/verification/service.js';
import {
  build,
  postgresAvailable,
  postgresUrl,
  postJson,
  startVerification,
  type TestApp,
} from '../helper.js';

const CONCURRENCY = 20;
const MAX_FAILED_ATTEMPTS = 5;

/** How many replies had each status and problem code ("200", "400 security_code_invalid", …). */
function tally(replies: { statusCode: number; json(): { code?: string } }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const code = reply.statusCode === 200 ? '' : ` ${reply.json().code}`;
    const key = `${reply.statusCode}${code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function verifyAll(target: TestApp, bodies: Record<string, string>[]) {
  return Promise.all(bodies.map((body) => postJson(target.app, '/v1/verifications/verify', body)));
}

async function checks(
  t: Test,
  kind: 'sqlite' | 'postgresql',
  env: () => Promise<Record<string, string>>,
): Promise<void> {
  t.test('concurrent verifies of one single-use code: exactly one approval', async (t) => {
    const target = await build(t, { env: await env() });
    const started = await startVerification(target, '+14155550101');
    const body = {
      phone_number: started.phone_number,
      security_code: started.code,
      session_token: started.session_token,
    };
    const replies = await verifyAll(
      target,
      Array.from({ length: CONCURRENCY }, () => body),
    );
    t.same(tally(replies), { '200': 1, '400 security_code_already_verified': CONCURRENCY - 1 });
  });

  t.test('concurrent wrong codes: exactly MAX counted, then the lock', async (t) => {
    const target = await build(t, {
      env: { ...(await env()), PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: String(MAX_FAILED_ATTEMPTS) },
    });
    const started = await startVerification(target, '+14155550102');
    const wrong = started.code === '000000' ? '000001' : '000000';
    const replies = await verifyAll(
      target,
      Array.from({ length: CONCURRENCY }, () => ({
        phone_number: started.phone_number,
        security_code: wrong,
        session_token: started.session_token,
      })),
    );
    t.same(tally(replies), {
      '400 security_code_invalid': MAX_FAILED_ATTEMPTS,
      '429 too_many_attempts': CONCURRENCY - MAX_FAILED_ATTEMPTS,
    });

    const right = await postJson(target.app, '/v1/verifications/verify', {
      phone_number: started.phone_number,
      security_code: started.code,
      session_token: started.session_token,
    });
    t.equal(right.statusCode, 429, 'the right code after the lock');
    t.equal(right.json().code, 'too_many_attempts');
    const view = await target.app.inject({ method: 'GET', url: `/v1/verifications/${started.id}` });
    t.equal(view.json().status, 'locked');
  });

  t.test('concurrent right and wrong codes: at most one approval, never past the lock', async (t) => {
    const target = await build(t, {
      env: { ...(await env()), PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: String(MAX_FAILED_ATTEMPTS) },
    });
    const started = await startVerification(target, '+14155550103');
    const wrong = started.code === '000000' ? '000001' : '000000';
    const replies = await verifyAll(
      target,
      Array.from({ length: CONCURRENCY }, (_, i) => ({
        phone_number: started.phone_number,
        security_code: i % 2 ? wrong : started.code,
        session_token: started.session_token,
      })),
    );
    const counts = tally(replies);
    t.ok((counts['200'] ?? 0) <= 1, `at most one approval: ${JSON.stringify(counts)}`);
    t.ok(
      (counts['400 security_code_invalid'] ?? 0) <= MAX_FAILED_ATTEMPTS,
      `at most MAX wrong codes answered as wrong: ${JSON.stringify(counts)}`,
    );
    if (counts['200'] !== 1) t.ok(counts['429 too_many_attempts'], 'no approval only if the lock came first');
  });

  // Many sessions at once: on PostgreSQL the requests of one event-loop turn share a transaction
  // per connection (pg-pipeline.ts), and two such groups touching the same rows in another order
  // must give way to each other, not lose or repeat a check.
  t.test('concurrent verifies of many sessions, interleaved: each counted exactly', async (t) => {
    const target = await build(t, {
      env: {
        ...(await env()),
        PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: String(MAX_FAILED_ATTEMPTS),
        RATE_LIMIT_MAX: '10000',
      },
    });
    const sessions = await Promise.all(
      Array.from({ length: 12 }, (_, i) => startVerification(target, `+1415555${200 + i}`.padEnd(12, '0'))),
    );
    const bodies = sessions.flatMap((started) => {
      const wrong = started.code === '000000' ? '000001' : '000000';
      return [wrong, started.code, wrong, started.code, started.code, started.code].map((code) => ({
        phone_number: started.phone_number,
        security_code: code,
        session_token: started.session_token,
      }));
    });
    // A fixed shuffle: every session's checks spread over the whole burst.
    const order = bodies.map((_, i) => (i * 37) % bodies.length);
    t.equal(new Set(order).size, bodies.length, 'a permutation');
    const replies = await verifyAll(
      target,
      order.map((i) => bodies[i]!),
    );
    const bySession = new Map<string, typeof replies>();
    order.forEach((i, n) => {
      const token = bodies[i]!.session_token;
      bySession.set(token, [...(bySession.get(token) ?? []), replies[n]!]);
    });
    for (const started of sessions) {
      t.same(
        tally(bySession.get(started.session_token)!),
        { '200': 1, '400 security_code_invalid': 2, '400 security_code_already_verified': 3 },
        started.phone_number,
      );
      const view = await target.app.inject({ method: 'GET', url: `/v1/verifications/${started.id}` });
      t.match(view.json(), { status: 'approved', attempts: 2 });
    }
  });

  // A start cancels the pending sessions started before it. Concurrent starts could once cancel each
  // other and leave no code working; the newest must survive. (An older start whose INSERT lands
  // after a newer start's supersede stays pending too: both codes work, none is lost.)
  t.test('concurrent starts for one number: the newest session stays pending', async (t) => {
    const target = await build(t, { env: await env() });
    const phone = '+14155550104';
    const replies = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        postJson(target.app, '/v1/verifications', { phone_number: phone }),
      ),
    );
    t.same(
      replies.map((reply) => reply.statusCode),
      replies.map(() => 201),
    );
    const views = await Promise.all(
      replies.map(async (reply) => {
        const view = await target.app.inject({ method: 'GET', url: `/v1/verifications/${reply.json().id}` });
        return view.json() as { id: string; status: string; created_at: string };
      }),
    );
    const statuses = JSON.stringify(views.map((view) => view.status));
    const newest = views.reduce((a, b) =>
      b.created_at > a.created_at || (b.created_at === a.created_at && b.id > a.id) ? b : a,
    );
    t.equal(newest.status, 'pending', `the newest start stays pending: ${statuses}`);
    t.ok(
      views.every((view) => view.status === 'pending' || view.status === 'canceled'),
      `the others are pending or canceled: ${statuses}`,
    );
    t.ok(
      views.some((view) => view.status === 'canceled'),
      `later starts cancel earlier ones: ${statuses}`,
    );
    if (kind === 'sqlite') {
      // One writer at a time and ids made in order: exactly the last start survives.
      t.equal(
        views.filter((view) => view.status === 'pending').length,
        1,
        `exactly one pending: ${statuses}`,
      );
    }
  });
}

t.test('sqlite', (t) => checks(t, 'sqlite', async () => ({})));

// Starts within one millisecond (a fixed clock): on SQLite the last one made survives alone, which
// rests on ids made in order (secrets.ts) and on the insert seeing every earlier session.
t.test('sqlite: concurrent starts within one millisecond leave exactly the last one pending', async (t) => {
  const { app } = await build(t);
  const fixed = new Date();
  const service = new VerificationService(
    app.store,
    app.backend,
    {
      appName: 'test',
      tokenLength: 6,
      codeExpirySeconds: 600,
      verifyCodeOnlyOnce: true,
      maxFailedAttempts: MAX_FAILED_ATTEMPTS,
      templates: { message: 'code {security_code}', messages: {} },
      backendName: 'console',
    },
    app.log,
    {},
    () => fixed,
  );
  // Twenty rounds of two (one number each), then one of twenty: with ids in random order, two
  // would stay pending whenever the first start made drew the larger id.
  const rounds = [...Array.from({ length: 20 }, () => 2), CONCURRENCY];
  for (const [round, size] of rounds.entries()) {
    const phoneNumber = `+1415555${String(1000 + round).padStart(4, '0')}`;
    const started = await Promise.all(Array.from({ length: size }, () => service.start({ phoneNumber })));
    const records = await Promise.all(started.map((session) => app.store.findById(session.id)));
    const pending = records.filter((record) => record?.status === 'pending').map((record) => record?.id);
    t.same(pending, [started.at(-1)?.id], `round ${round + 1}: only the last start made is pending`);
  }
});

t.test('postgresql', async (t) => {
  if (!(await postgresAvailable(t))) return;
  await checks(t, 'postgresql', async () => ({ DATABASE_URL: await postgresUrl(t) }));
});
