// Security headers on API, operations and error replies; no caching of /v1 replies.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import t from 'tap';
import helmet from '../../../src/plugins/external/helmet.js';
import { build, postJson } from '../../helper.js';

t.test('security headers fit a JSON API', async (t) => {
  const { app } = await build(t);
  const replies = {
    healthz: await app.inject({ method: 'GET', url: '/healthz' }),
    start: await postJson(app, '/v1/verifications', { phone_number: '+14155550100' }),
    error: await postJson(app, '/v1/verifications', {}),
    unknown: await app.inject({ method: 'GET', url: '/nope' }),
  };
  t.equal(replies.start.statusCode, 201);
  for (const [name, reply] of Object.entries(replies)) {
    const csp = String(reply.headers['content-security-policy']);
    t.match(csp, /default-src 'self'/, `${name}: CSP`);
    t.match(csp, /frame-ancestors 'none'/, `${name}: no framing`);
    t.match(csp, /object-src 'none'/, `${name}: no plugins`);
    t.equal(reply.headers['x-content-type-options'], 'nosniff', `${name}: no sniffing`);
    t.equal(reply.headers['x-frame-options'], 'DENY', `${name}: X-Frame-Options`);
    t.equal(reply.headers['referrer-policy'], 'no-referrer', `${name}: Referrer-Policy`);
    t.ok(reply.headers['strict-transport-security'], `${name}: HSTS`);
    t.notOk(reply.headers['x-powered-by'], `${name}: no X-Powered-By`);
  }
  t.match(replies.start.headers['content-type'], /^application\/json/, 'JSON still JSON');
  t.equal(replies.start.headers['cache-control'], 'no-store', 'a reply with a session token is never cached');
  t.equal(replies.error.headers['cache-control'], 'no-store');
});

t.test('the Content-Security-Policy lets the Swagger UI load', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  await app.register(helmet);
  await app.register(swagger, { openapi: { info: { title: 'test', version: '1' } } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const page = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(page.statusCode, 200);
  const csp = String(page.headers['content-security-policy']);
  t.match(csp, /script-src 'self'/);
  t.match(csp, /style-src 'self' 'unsafe-inline'/, 'Swagger UI sets inline styles at run time');
  const scripts = page.body.match(/<script[^>]*>/g) ?? [];
  t.ok(scripts.length > 0);
  t.ok(
    scripts.every((tag) => /\ssrc="/.test(tag)),
    'every script of the page is a file from this origin, which script-src allows',
  );
  for (const path of ['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js']) {
    t.equal((await app.inject({ method: 'GET', url: path })).statusCode, 200, path);
  }
});
