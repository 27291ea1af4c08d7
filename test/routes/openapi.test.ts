// /openapi.json is a complete OpenAPI 3.1 document of every route (errors and examples included)
// and /docs serves Swagger UI from local assets.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Fastify, { type RouteOptions } from 'fastify';
import t, { type Test } from 'tap';
import app from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PROBLEMS } from '../../src/errors.js';
import { serverOptions } from '../../src/server-options.js';
import { build, sqliteUrl } from '../helper.js';

type Json = Record<string, unknown>;

/** The app, with every route it registers recorded. */
async function appWithRoutes(t: Test, env: Record<string, string> = {}) {
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: await sqliteUrl(t), ...env });
  const fastify = Fastify(serverOptions(config));
  const routes: RouteOptions[] = [];
  fastify.addHook('onRoute', (route) => {
    routes.push(route);
  });
  await fastify.register(app, { config });
  await fastify.ready();
  t.teardown(() => fastify.close());
  return { fastify, routes };
}

function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refs(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

t.test('every route, every status, every error code, with examples', async (t) => {
  const { fastify, routes } = await appWithRoutes(t);
  const reply = await fastify.inject('/openapi.json');
  t.equal(reply.statusCode, 200);
  t.match(reply.headers['content-type'], /^application\/json/);
  const doc = reply.json();
  t.equal(doc.openapi, '3.1.0');
  t.equal(doc.info.title, 'phone-verify');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  t.equal(doc.info.version, pkg.version, "info.version is the service's version (package.json)");
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: String });
  t.ok(doc.components.schemas.Problem, 'the shared Problem schema is a component');
  for (const ref of refs(doc)) {
    t.match(ref, /^#\/components\/schemas\/[A-Za-z]+$/, `local component ref ${ref}`);
    t.ok(doc.components.schemas[ref.split('/').at(-1)!], `${ref} resolves`);
  }

  const documented = routes.filter((route) => !(route.schema as Json | undefined)?.hide);
  const paths = new Set(documented.map((route) => route.url));
  for (const path of [
    '/healthz',
    '/readyz',
    '/metrics',
    '/openapi.json',
    '/v1/verifications',
    '/v1/verifications/verify',
    '/v1/verifications/:id',
  ]) {
    t.ok(paths.has(path), `${path} is a documented route`);
  }
  for (const route of documented) {
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const operation = doc.paths[path]?.[method.toLowerCase()];
      t.ok(operation, `${method} ${path} documented`);
      if (!operation) continue;
      t.ok(operation.summary, `${method} ${path} has a summary`);
      const responses = (route.schema as Json).response as Json | undefined;
      if (path.startsWith('/v2/') || path.startsWith('/api/phone')) {
        // The compatibility routes answer in Twilio's and django-phone-verify's formats; they are
        // documented with a summary and their own tag (docs/migrating.md has their wire format).
        t.ok((operation.tags as string[] | undefined)?.length, `${method} ${path} is tagged`);
        if (!responses) continue;
      }
      const statuses = Object.keys(responses as Json);
      t.same(Object.keys(operation.responses).sort(), statuses.sort(), `${method} ${path}: every status`);
      for (const [status, response] of Object.entries<Json>(operation.responses)) {
        const code = Number(status);
        if (code < 400) {
          // 204 has no body to give an example of.
          if (code !== 204 && path !== '/metrics' && path !== '/openapi.json') {
            const media = (response.content as Json)['application/json'] as Json;
            t.ok(media.example, `${method} ${path} ${status} has an example body`);
          }
          continue;
        }
        const media = (response.content as Json)['application/problem+json'] as Json;
        t.same(
          media?.schema,
          { $ref: '#/components/schemas/Problem' },
          `${method} ${path} ${status} is a Problem`,
        );
        const examples = Object.entries(media.examples as Record<string, { value: Json }>);
        t.ok(examples.length > 0, `${method} ${path} ${status} has examples`);
        for (const [name, { value }] of examples) {
          t.equal(value.code, name);
          t.equal(value.status, code, `${name} example has status ${code}`);
          t.equal(PROBLEMS[name as keyof typeof PROBLEMS].status, code);
        }
      }
    }
  }

  const start = doc.paths['/v1/verifications'].post;
  t.same(Object.keys(start.responses['400'].content['application/problem+json'].examples).sort(), [
    'invalid_phone_number',
    'validation_error',
  ]);
  t.equal(
    start.responses['502'].content['application/problem+json'].examples.backend_error.value.code,
    'backend_error',
  );
  t.equal(
    start.requestBody.content['application/json'].schema.properties.phone_number.examples[0],
    '+14155550100',
  );
  t.same(start.security, [{}, { bearerAuth: [] }], 'API_KEYS unset: the key is optional');
  t.same(doc.paths['/healthz'].get.security, [], 'operations routes are open');
});

t.test('with API_KEYS the /v1 routes require the bearer scheme; ops stay open', async (t) => {
  const { fastify } = await appWithRoutes(t, { API_KEYS: 'k1,k2' });
  const doc = (await fastify.inject('/openapi.json')).json();
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const operation of Object.values(item) as Json[]) {
      // Delivery receipts carry their provider's signature instead.
      const keyed = path.startsWith('/v1/') && !path.startsWith('/v1/callbacks/');
      t.same(operation.security, keyed ? [{ bearerAuth: [] }] : [], path);
    }
  }
  t.notOk(JSON.stringify(doc).includes('k1'), 'keys never appear in the document');
});

t.test('/docs serves Swagger UI and its assets locally', async (t) => {
  const { app: fastify } = await build(t);
  const redirect = await fastify.inject('/docs');
  t.ok([200, 302].includes(redirect.statusCode), '/docs answers');
  const page = await fastify.inject('/docs/');
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, /<title>Swagger UI<\/title>/);
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
  t.ok(assets.length >= 3);
  for (const asset of assets) {
    t.notMatch(asset, /^(https?:)?\/\//, `${asset} is served by the service, not a CDN`);
    const url = new URL(asset, 'http://localhost/docs/').pathname;
    const reply = await fastify.inject(url);
    t.equal(reply.statusCode, 200, `${url} served`);
    t.ok(reply.rawPayload.length > 0);
  }
  const bundle = await fastify.inject('/docs/static/swagger-ui-bundle.js');
  t.match(bundle.headers['content-type'], /javascript/);
  const initializer = await fastify.inject('/docs/static/swagger-initializer.js');
  t.match(initializer.body, /validatorUrl["']?\s*:\s*null/, 'no calls to validator.swagger.io');
  const json = await fastify.inject('/docs/json');
  t.same(json.json(), (await fastify.inject('/openapi.json')).json(), 'the UI reads the same document');
});

t.test('every schema is valid JSON Schema 2020-12 and every example matches its schema', async (t) => {
  const { app: fastify } = await build(t);
  const doc = (await fastify.inject('/openapi.json')).json();
  // OpenAPI 3.1 schemas are JSON Schema 2020-12; Ajv (Fastify's validator) checks them.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const inline = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(inline);
    if (node && typeof node === 'object') {
      const ref = (node as Json).$ref;
      if (typeof ref === 'string') return inline(doc.components.schemas[ref.split('/').at(-1)!]);
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, inline(value)]));
    }
    return node;
  };
  let checked = 0;
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, Json][]) {
      const media = [
        ...Object.entries((operation.requestBody as Json | undefined)?.content ?? {}),
        ...Object.values(operation.responses as Record<string, Json>).flatMap((response) =>
          Object.entries((response.content as Json | undefined) ?? {}),
        ),
      ] as [string, Json][];
      for (const [type, content] of media) {
        const validate = ajv.compile(inline(content.schema) as object);
        const examples = [
          ...(content.example === undefined ? [] : [content.example]),
          ...Object.values((content.examples as Record<string, { value: unknown }> | undefined) ?? {}).map(
            (example) => example.value,
          ),
        ];
        for (const example of examples) {
          checked++;
          t.ok(validate(example), `${method} ${path} ${type} example: ${ajv.errorsText(validate.errors)}`);
        }
      }
    }
  }
  t.ok(checked > 30, `${checked} examples checked`);
});
