// Slow clients over real sockets: a request (headers and body) must arrive whole within the
// request deadline, 30 s in the service, checked every second; a client that trickles its headers
// or its body, or opens a connection and sends nothing, is answered 408 request_timeout as
// problem+json and cut. The deadlines are shortened here through serverOptions' second argument.
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { loadConfig } from '../src/config.js';
import { REQUEST_DEADLINES, serverOptions } from '../src/server-options.js';
import { build } from './helper.js';

// Two seconds: the slow client that makes it (about half a second of dripping) keeps a wide margin on
// a busy machine, whose timers run late.
const DEADLINES = { requestTimeoutMs: 2_000, checkIntervalMs: 100 };

interface Outcome {
  /** milliseconds from connecting to the server closing the connection */
  afterMs: number;
  answer: string;
}

/**
 * Connects, writes `first`, then one byte of `trickle` every `everyMs`, until the server closes
 * the connection (or the trickle runs out and `endWaitMs` passes).
 */
function slowClient(port: number, first: string, trickle: string, everyMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const began = Date.now();
    const socket = connect(port, '127.0.0.1', () => {
      if (first) socket.write(first);
    });
    let answer = '';
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]!);
    }, everyMs);
    const giveUp = setTimeout(() => socket.destroy(), 10_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ afterMs: Date.now() - began, answer });
    });
  });
}

function assertTimedOut(t: Test, outcome: Outcome) {
  t.match(outcome.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/, '408');
  t.match(outcome.answer, /\r\ncontent-type: application\/problem\+json/i);
  const body = JSON.parse(outcome.answer.slice(outcome.answer.indexOf('\r\n\r\n') + 4));
  t.match(body, { status: 408, code: 'request_timeout', type: 'urn:phone-verify:problem:request_timeout' });
  // Cut at the deadline, give or take the check interval and a busy machine; never much later.
  t.ok(outcome.afterMs >= DEADLINES.requestTimeoutMs - 50, `not before the deadline (${outcome.afterMs} ms)`);
  t.ok(outcome.afterMs < DEADLINES.requestTimeoutMs * 4, `cut near the deadline (${outcome.afterMs} ms)`);
}

t.test('the service gives a request 30 s, checked every second', async (t) => {
  t.same(REQUEST_DEADLINES, { requestTimeoutMs: 30_000, checkIntervalMs: 1_000 });
  const options = serverOptions(loadConfig({}));
  t.equal(options.requestTimeout, 30_000);
  t.match(options.http, { headersTimeout: 30_000, connectionsCheckingInterval: 1_000 });
  const target = await build(t);
  t.equal(target.app.server.requestTimeout, 30_000, 'the server uses them');
  t.equal(target.app.server.headersTimeout, 30_000);
});

t.test('slow clients are cut at the request deadline with a problem+json 408', async (t) => {
  const target = await build(t, { deadlines: DEADLINES });
  await target.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = target.app.server.address() as { port: number };

  await t.test('headers trickled a byte at a time', async (t) => {
    const outcome = await slowClient(
      port,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n',
      'X-Slow: '.padEnd(200, 'a'),
      50,
    );
    assertTimedOut(t, outcome);
  });

  await t.test('a body trickled a byte at a time', async (t) => {
    const body = JSON.stringify({ phone_number: '+14155550100', locale: 'en'.padEnd(150, 'x') });
    const head = `POST /v1/verifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const outcome = await slowClient(port, head, body, 50);
    assertTimedOut(t, outcome);
  });

  await t.test('a connection that never sends a byte', async (t) => {
    assertTimedOut(t, await slowClient(port, '', '', 50));
  });

  await t.test('a slow client that makes it within the deadline is answered', async (t) => {
    const outcome = await slowClient(
      port,
      'GET /healthz HTTP/1.1\r\n',
      'Host: x\r\nConnection: close\r\n\r\n',
      15,
    );
    t.match(outcome.answer, /^HTTP\/1\.1 200 OK\r\n/);
  });
});
