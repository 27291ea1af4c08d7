// Concurrent requests with one Idempotency-Key send one message, on SQLite and on PostgreSQL: in
// one process, and across two replicas sharing the database. The requests that lose the claim wait
// for the winner's answer and replay it.
import { type AddressInfo, connect } from 'node:net';
import type { Test } from 'tap';
import t from 'tap';
import { build, DATABASES, databaseUrl, type TestApp } from '../helper.js';
import { GATED_BACKEND, type GatedRecorder, keyRows, sends, start } from './support.js';

const CONCURRENCY = 10;
const NUMBER = { phone_number: '+14155550100' };
// The same secret on every replica, so each can replay what another stored.
const SECRET = 's'.repeat(40);

/** Lets the event loop run the requests under way (no time is measured). */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

function sameAnswers(
  t: Test,
  replies: { statusCode: number; body: string; headers: Record<string, unknown> }[],
) {
  const [first] = replies;
  t.same(
    replies.map((reply) => reply.statusCode),
    replies.map(() => 201),
    'every request answered 201',
  );
  t.equal(new Set(replies.map((reply) => reply.body)).size, 1, 'one answer: the same id and session_token');
  const fresh = replies.filter((reply) => reply.headers['idempotent-replayed'] === undefined);
  t.equal(fresh.length, 1, 'one request ran, the others replayed its answer');
  return first!;
}

for (const kind of DATABASES) {
  t.test(kind, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;

    t.test(
      `${CONCURRENCY} concurrent requests with one key while its send is in flight: one message`,
      async (t) => {
        const target = await build(t, {
          env: { DATABASE_URL: url, PHONE_VERIFICATION_BACKEND: GATED_BACKEND, SERVER_SECRET: SECRET },
        });
        const backend = target.app.backend as GatedRecorder;
        const replies = Array.from({ length: CONCURRENCY }, () => start(target, NUMBER, `${kind}-inflight`));
        await backend.entered;
        await settle();
        t.equal(sends(target), 1, 'while the first send is held, no other began');
        backend.open();
        sameAnswers(t, await Promise.all(replies));
        t.equal(sends(target), 1, 'one message sent');
        const [row] = (await keyRows(url)).filter((row) => row.response_status === 201);
        t.ok(row, 'the answer is stored');
      },
    );

    t.test(`${CONCURRENCY} concurrent requests with one key over two replicas: one message`, async (t) => {
      const env = { DATABASE_URL: url, SERVER_SECRET: SECRET };
      const replicas: TestApp[] = [await build(t, { env }), await build(t, { env })];
      const replies = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => start(replicas[i % 2]!, NUMBER, `${kind}-replicas`)),
      );
      sameAnswers(t, replies);
      t.equal(sends(replicas[0]!) + sends(replicas[1]!), 1, 'one message between the two replicas');
    });

    t.test(
      `control: ${CONCURRENCY} concurrent requests with distinct keys send ${CONCURRENCY} messages`,
      async (t) => {
        const target = await build(t, { env: { DATABASE_URL: url, SERVER_SECRET: SECRET } });
        const replies = await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, i) =>
            start(target, { phone_number: `+1415555011${i}` }, `${kind}-distinct-${i}`),
          ),
        );
        t.same(
          replies.map((reply) => reply.statusCode),
          replies.map(() => 201),
        );
        t.equal(sends(target), CONCURRENCY);
      },
    );

    t.test(
      'a client that gave up on its request: the retry waits for that answer and replays it',
      async (t) => {
        const target = await build(t, {
          env: { DATABASE_URL: url, PHONE_VERIFICATION_BACKEND: GATED_BACKEND, SERVER_SECRET: SECRET },
        });
        await target.app.listen({ host: '127.0.0.1', port: 0 });
        const { port } = target.app.server.address() as AddressInfo;
        const body = JSON.stringify(NUMBER);
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(
            `POST /v1/verifications HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${body.length}\r\nIdempotency-Key: ${kind}-gave-up\r\n\r\n${body}`,
          ),
        );
        const backend = target.app.backend as GatedRecorder;
        await backend.entered;
        // The client times out and hangs up while the message is being sent, then retries.
        await new Promise((resolve) => socket.destroy().once('close', resolve));
        const retry = start(target, NUMBER, `${kind}-gave-up`);
        await settle();
        backend.open();
        const reply = await retry;
        t.equal(reply.statusCode, 201);
        t.equal(reply.headers['idempotent-replayed'], 'true', 'the answer the first request got, replayed');
        t.equal(sends(target), 1);
      },
    );

    t.test(
      'concurrent requests with one key and different bodies: one runs, the others are 422',
      async (t) => {
        const target = await build(t, {
          env: { DATABASE_URL: url, PHONE_VERIFICATION_BACKEND: GATED_BACKEND, SERVER_SECRET: SECRET },
        });
        const backend = target.app.backend as GatedRecorder;
        const first = start(target, NUMBER, `${kind}-bodies`);
        await backend.entered;
        const others = await Promise.all(
          Array.from({ length: CONCURRENCY - 1 }, (_, i) =>
            start(target, { phone_number: `+1415555012${i}` }, `${kind}-bodies`),
          ),
        );
        t.same(
          others.map((reply) => reply.json().code),
          others.map(() => 'idempotency_key_mismatch'),
          'another body is refused at once, while the first request still runs',
        );
        backend.open();
        t.equal((await first).statusCode, 201);
        t.equal(sends(target), 1);
      },
    );
  });
}
