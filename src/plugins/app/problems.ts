// Every answer that is not a success leaves as application/problem+json with its stable code: the
// error and 404 handlers, Fastify's router errors before any route (frameworkErrors), Node's HTTP
// parser errors and timeouts written on the socket itself (clientErrorHandler), an Expect header
// other than 100-continue, CONNECT, a request without Host, and requests that arrive while the
// service stops. Client errors keep their detail; server errors are logged and answered generically.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isAppError, type Problem, type ProblemCode, problem } from '../../errors.js';

/** Fastify's own error codes, mapped to ours. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_error',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_error',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_error',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'validation_error',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_ASYNC_CONSTRAINT: 'internal_error',
};

/** A client error with a status but no code of Fastify's: ours by status (else bad_request). */
const BY_STATUS: Record<number, ProblemCode> = {
  400: 'validation_error',
  404: 'not_found',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  431: 'request_header_fields_too_large',
};

const DETAILS: Partial<Record<ProblemCode, string>> = {
  unsupported_media_type: 'Send the body as application/json.',
  payload_too_large: 'The request body is larger than this service accepts.',
  bad_request: 'The URL is not valid: a malformed percent-encoding.',
  uri_too_long: 'The URL, or a path segment of it, is longer than this service accepts.',
  request_timeout: 'The request did not arrive in full within the time this service allows.',
  request_header_fields_too_large: 'The request line and headers are larger than this service accepts.',
  expectation_failed: 'Only "Expect: 100-continue" is supported.',
  internal_error: 'The service failed to handle this request.',
};

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json; charset=utf-8').send(body);
}

function notFound(request: FastifyRequest): Problem {
  return problem('not_found', `No route ${request.method} ${request.url.split('?')[0]}`);
}

/** The problem for whatever reached the error handler. */
function toProblem(error: FastifyError, request: FastifyRequest): Problem {
  if (error.validation) {
    const detail = error.message.replace(/^body\//, '').replace(/^body /, '');
    return problem('validation_error', `Invalid request: ${detail}`);
  }
  if (isAppError(error)) {
    const body = problem(error.code, error.message);
    if (body.status >= 500 && error.code !== 'backend_error' && error.code !== 'service_unavailable') {
      // Server-side failures say nothing of their cause to the caller.
      return problem(error.code, DETAILS.internal_error!);
    }
    return body;
  }
  const mapped = typeof error.code === 'string' ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) {
    const detail = mapped === 'validation_error' ? `Invalid request: ${error.message}` : DETAILS[mapped]!;
    return problem(mapped, detail);
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 404) return notFound(request);
  if (status >= 400 && status < 500) {
    const code = BY_STATUS[status] ?? 'bad_request';
    const generic = code === 'validation_error' || code === 'bad_request';
    return problem(code, generic ? error.message : (DETAILS[code] ?? error.message));
  }
  return problem('internal_error', DETAILS.internal_error!);
}

/** True for an Error whose message and stack can be read (a throwing getter or Proxy cannot). */
function readableError(thrown: unknown): thrown is FastifyError {
  try {
    if (!(thrown instanceof Error) || typeof thrown.message !== 'string') return false;
    void thrown.stack;
    return true;
  } catch {
    return false;
  }
}

function handleError(thrown: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // Anything but a readable Error (a plugin threw a string, a symbol, an object without prototype)
  // is a 500 whose log line names only its type: neither String() nor the serializer can be trusted.
  const error = readableError(thrown) ? thrown : undefined;
  const body = error ? toProblem(error, request) : problem('internal_error', DETAILS.internal_error!);
  if (body.status >= 500) {
    const err = error ?? {
      type: thrown === null ? 'null' : typeof thrown,
      message: 'a thrown value that is not an Error',
    };
    request.log.error({ err, code: body.code }, 'request failed');
  } else {
    request.log.debug({ code: body.code }, body.detail);
  }
  const headers = (error as { headers?: unknown } | undefined)?.headers;
  if (headers && typeof headers === 'object') reply.headers(headers as Record<string, string>);
  return sendProblem(reply, body);
}

/** Fastify's errors before routing (a malformed %-escape, an over-long path parameter), as problems. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  handleError(error, request, reply);
}

/** A whole HTTP response carrying a problem, for a socket Fastify never got a request from. */
function rawResponse(body: Problem): string {
  const json = JSON.stringify(body);
  return [
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    json,
  ].join('\r\n');
}

/** The request line is what overflowed when the packet starts with one that has not ended yet. */
function requestLineTooLong(packet: unknown): boolean {
  if (!Buffer.isBuffer(packet)) return false;
  const head = packet.subarray(0, 8192).toString('latin1');
  return /^[A-Z]+ /.test(head) && !head.includes('\r\n');
}

// What a client can mend, per llhttp error; anything else is "not valid HTTP".
const PARSER_DETAILS: Record<string, string> = {
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length beside Transfer-Encoding, or two Content-Length headers.',
  HPE_INVALID_CHUNK_SIZE: 'A chunk size of the chunked body is not valid.',
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding is not valid, or sent beside Content-Length.',
  HPE_INVALID_METHOD: 'The request method is not valid.',
  HPE_INVALID_URL: 'The request target is not a valid URL.',
  HPE_INVALID_VERSION: 'Not an HTTP/1.0 or HTTP/1.1 request.',
  HPE_INVALID_HEADER_TOKEN: 'A header name or value is not valid.',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a number.',
};

/** The problem for one of Node's HTTP parser errors or timeouts. */
function clientProblem(error: NodeJS.ErrnoException & { rawPacket?: unknown }): Problem {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem('request_timeout', DETAILS.request_timeout!);
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(error.rawPacket)
        ? problem('uri_too_long', DETAILS.uri_too_long!)
        : problem('request_header_fields_too_large', DETAILS.request_header_fields_too_large!);
    default:
      return problem(
        'bad_request',
        `The request is not valid HTTP: ${PARSER_DETAILS[error.code ?? ''] ?? 'the parser refused it.'}`,
      );
  }
}

/**
 * Node's `clientError`: the parser refused the bytes (a bad chunk size, Content-Length beside
 * Transfer-Encoding, a header or request line too long) or the request did not arrive in time.
 * No request object exists, so the problem is written on the socket, which is then closed.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error, socket: Socket): void {
  const nodeError = error as NodeJS.ErrnoException;
  if (nodeError.code === 'ECONNRESET' || socket.destroyed) return;
  const body = clientProblem(nodeError);
  this.log.debug({ code: body.code, parser_code: nodeError.code }, 'client error');
  if (socket.writable) socket.write(rawResponse(body));
  socket.destroy();
}

export default fp(
  async (fastify) => {
    fastify.setErrorHandler((error: unknown, request, reply) => handleError(error, request, reply));
    fastify.setNotFoundHandler((request, reply) => sendProblem(reply, notFound(request)));

    let stopping = false;
    fastify.addHook('preClose', (done) => {
      stopping = true;
      done();
    });
    // One hook for the two checks Node and Fastify would otherwise answer in their own format.
    fastify.addHook('onRequest', (request, reply, done) => {
      if (stopping) {
        sendProblem(reply, problem('service_unavailable', 'The service is stopping; retry the request.'));
      } else if (request.raw.httpVersionMinor === 1 && request.headers.host === undefined) {
        sendProblem(reply, problem('bad_request', 'An HTTP/1.1 request needs a Host header.'));
      } else {
        done();
      }
    });
    // Node hands CONNECT to a 'connect' listener, and without one closes the socket unanswered.
    fastify.server.on('connect', (_request, socket: Socket) => {
      if (socket.writable)
        socket.write(rawResponse(problem('not_found', 'No route for CONNECT: this is not a proxy.')));
      socket.destroy();
    });
    // Without a listener Node answers any Expect but 100-continue with a bare 417.
    fastify.server.on('checkExpectation', (_request, response) => {
      const json = JSON.stringify(problem('expectation_failed', DETAILS.expectation_failed!));
      response.writeHead(417, {
        'content-type': 'application/problem+json; charset=utf-8',
        'content-length': Buffer.byteLength(json),
      });
      response.end(json);
    });
  },
  { name: 'problems' },
);
