// Every answer is problem+json with a documented code, also where Fastify's router or Node's HTTP
// parser answers before any route runs: bytes written on a real socket exactly as a hostile or
// broken client would send them, and the raw answer read back.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { PROBLEMS } from '../../src/errors.js';
import { buildWithPlugin, outbox } from '../backends/plugin-support.js';
import { build, type TestApp } from '../helper.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** the server closed the connection (an answer on a kept-alive one is read without waiting) */
  closed: boolean;
}

/** Parses the first HTTP response in `text` (Content-Length or chunked). */
function parseAnswer(text: string, closed: boolean): RawAnswer | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    body = body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n[\s\S]*$/, '');
  } else if (headers['content-length']) {
    body = Buffer.from(body).subarray(0, Number(headers['content-length'])).toString();
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body, closed };
}

/** Writes `bytes` on a new connection and reads until the server closes it or `waitMs` passes. */
function exchange(port: number, bytes: string | Buffer, waitMs = 2_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    let closed = false;
    let answered = false;
    const finish = () => {
      const answer = parseAnswer(text, closed);
      if (answer) resolve(answer);
      else reject(new Error(`no HTTP answer to ${JSON.stringify(String(bytes).slice(0, 80))}: ${text}`));
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      // A whole answer on a connection the server keeps open: no need to wait for the close.
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      const length = /\r\ncontent-length: (\d+)/i.exec(head)?.[1];
      const whole =
        length !== undefined && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length);
      if (whole && !/\r\nconnection: close/i.test(head)) {
        clearTimeout(timer);
        answered = true;
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = !answered;
      clearTimeout(timer);
      finish();
    });
  });
}

async function listening(target: TestApp): Promise<number> {
  await target.app.listen({ port: 0, host: '127.0.0.1' });
  return (target.app.server.address() as { port: number }).port;
}

function assertProblem(t: Test, answer: RawAnswer, status: number, code: string) {
  t.equal(answer.status, status, `status ${status}`);
  t.match(answer.headers['content-type'], /^application\/problem\+json/, 'problem+json');
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(answer.body);
  } catch {
    t.fail(`not JSON: ${answer.body}`);
  }
  t.match(body, { code, status, type: `urn:phone-verify:problem:${code}`, title: String, detail: String });
  t.ok(code in PROBLEMS, `${code} is a documented code`);
  t.equal(PROBLEMS[code as keyof typeof PROBLEMS].status, status);
}

const JSON_POST = 'POST /v1/verifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

const PROTO_BODY = '{"__proto__":{"phone_number":1}}';

/** name, bytes, status, code; the parser's refusals also close the connection. */
const CASES: [name: string, bytes: string, status: number, code: string][] = [
  [
    'a malformed percent-encoding in the id',
    'GET /v1/verifications/%ff HTTP/1.1\r\nHost: x\r\n\r\n',
    400,
    'bad_request',
  ],
  [
    'a malformed percent-encoding elsewhere',
    'GET /docs/%e0%a4 HTTP/1.1\r\nHost: x\r\n\r\n',
    400,
    'bad_request',
  ],
  [
    'an id longer than a path parameter may be',
    `GET /v1/verifications/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    414,
    'uri_too_long',
  ],
  [
    'a URL longer than the request head may be',
    `GET /v1/verifications/x?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    414,
    'uri_too_long',
  ],
  [
    'headers larger than 16 KiB',
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    431,
    'request_header_fields_too_large',
  ],
  [
    'Content-Length beside Transfer-Encoding',
    `${JSON_POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
    'bad_request',
  ],
  [
    'two different Content-Lengths',
    `${JSON_POST}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
    400,
    'bad_request',
  ],
  [
    'a chunk size that is not hex',
    `${JSON_POST}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    400,
    'bad_request',
  ],
  ['a method with invalid characters', 'G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
  [
    'a header name with a space',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
    400,
    'bad_request',
  ],
  ['an HTTP version that does not exist', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n', 400, 'bad_request'],
  ['the HTTP/2 preface on an HTTP/1 port', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'bad_request'],
  ['an HTTP/1.1 request without Host', 'GET /healthz HTTP/1.1\r\n\r\n', 400, 'bad_request'],
  [
    'an Expect other than 100-continue',
    `${JSON_POST}Expect: 100-banana\r\nContent-Length: 2\r\n\r\n{}`,
    417,
    'expectation_failed',
  ],
  ['an unknown method', 'PROPFIND /v1/verifications HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'not_found'],
  [
    'CONNECT, as to a proxy',
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    404,
    'not_found',
  ],
  [
    'a JSON body with a forbidden __proto__',
    `${JSON_POST}Content-Length: ${PROTO_BODY.length}\r\n\r\n${PROTO_BODY}`,
    400,
    'validation_error',
  ],
];

t.test('what the router and the HTTP parser refuse is problem+json with a documented code', async (t) => {
  const port = await listening(await build(t));
  for (const [name, bytes, status, code] of CASES) {
    await t.test(name, async (t) => {
      const answer = await exchange(port, bytes);
      assertProblem(t, answer, status, code);
      if (answer.headers.connection === 'close')
        t.ok(answer.closed, 'Connection: close, and the server closed it');
    });
  }
});

t.test('the service still answers on the same port after each of them', async (t) => {
  const port = await listening(await build(t));
  for (const [, bytes] of CASES) await exchange(port, bytes);
  const ok = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), { status: 'ok' });
});

t.test(
  'a little fuzzing: methods, targets, headers and bodies never get a 500 or a bare answer',
  async (t) => {
    const port = await listening(await build(t));
    const methods = [
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'TRACE',
      'CONNECT',
      'M-SEARCH',
      'get',
    ];
    const targets = [
      '/v1/verifications',
      '/v1/verifications/verify',
      '/v1/verifications/%',
      '/%2e%2e/etc',
      '*',
      '/v1/verifications/%c0%af',
      '//v1',
      '/v1/verifications/\u00e9',
      `/v1/verifications/${'%41'.repeat(60)}`,
      'http://x/healthz?%zz',
    ];
    const headers = [
      'Content-Type: application/json',
      'Content-Type: text/plain',
      'Content-Type: application/json; charset=utf-16',
      'Content-Encoding: br',
      'Accept: application/xml',
      'Authorization: Bearer \u00ff',
      'Content-Type: ',
      'Transfer-Encoding: gzip, chunked',
    ];
    const bodies = [
      '{}',
      '{"phone_number":"+14155550100"',
      '[]',
      'null',
      '{"phone_number":{"$gt":""}}',
      randomBytes(40).toString('latin1'),
      '{"phone_number":"+1\u0000"}',
    ];
    const pick = <T>(list: T[], i: number, salt: number) => list[(i * 7 + salt * 13) % list.length]!;
    for (let i = 0; i < 60; i++) {
      const body = pick(bodies, i, 3);
      const request = [
        `${pick(methods, i, 1)} ${pick(targets, i, 2)} HTTP/1.1`,
        'Host: x',
        pick(headers, i, 4),
        `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n');
      const answer = await exchange(port, Buffer.from(request, 'latin1'));
      if (answer.status < 400) continue;
      t.ok(answer.status < 500, `${request.split('\r\n')[0]}: ${answer.status} is not a server error`);
      if (answer.headers['content-length'] === '0' || answer.body === '') continue; // HEAD-like, nothing to read
      t.match(answer.headers['content-type'], /^application\/problem\+json/, request.split('\r\n')[0]);
      t.ok(JSON.parse(answer.body).code in PROBLEMS);
    }
  },
);

t.test('a request arriving while the service stops is a problem+json 503', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'slow.SlowBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
    PHONE_VERIFICATION_OPTIONS_DELAY_MS: '400',
  });
  const port = await listening(target);
  const body = '{"phone_number":"+14155550100"}';
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write(`${JSON_POST}Content-Length: ${body.length}\r\n\r\n${body}`);
  while (box.sent().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const stopping = target.app.close();
  // On the busy connection, after the stop began: Node parses it, Fastify routes it.
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await stopping;
  socket.end();
  await closed;
  const [first, second] = text.split(/(?=HTTP\/1\.1 )/);
  t.equal(parseAnswer(first ?? '', true)?.status, 201, 'the request in flight finishes');
  assertProblem(t, parseAnswer(second ?? '', true)!, 503, 'service_unavailable');
});
