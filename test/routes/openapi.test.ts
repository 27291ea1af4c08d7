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
        // The compatibility routes check their own bodies (Twilio's and DRF's error formats), so
        // their schemas are the document's only; 'the compatibility routes' below checks them.
        t.same(
          operation.tags,
          [path.startsWith('/v2/') ? 'twilio-verify-v2' : 'django-phone-verify'],
          `${method} ${path} is tagged apart`,
        );
        t.notOk(route.schema && ('body' in route.schema || 'response' in route.schema), 'not compiled');
        continue;
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
    'invalid_idempotency_key',
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
  t.same(doc.paths['/v2/Services'].post.security, [{}, { twilioBasic: [] }], 'and on /v2 Basic is');
  t.same(doc.paths['/api/phone/register'].post.security, [{}, { bearerAuth: [] }], 'and on /api/phone');
  t.same(doc.paths['/healthz'].get.security, [], 'operations routes are open');
});

/**
 * The scheme a path's key goes in: /v2 as Twilio's Basic password, /v1 and /api/phone as a bearer;
 * delivery receipts carry their provider's signature instead.
 */
function schemeOf(path: string): string | undefined {
  if (path.startsWith('/v2/')) return 'twilioBasic';
  if (path.startsWith('/v1/callbacks/')) return undefined;
  if (path.startsWith('/v1/') || path.startsWith('/api/phone/')) return 'bearerAuth';
  return undefined;
}

t.test('with API_KEYS /v1 and /api/phone require the bearer scheme, /v2 Basic; ops stay open', async (t) => {
  const { fastify } = await appWithRoutes(t, { API_KEYS: 'k1,k2' });
  const doc = (await fastify.inject('/openapi.json')).json();
  t.match(doc.components.securitySchemes.twilioBasic, { type: 'http', scheme: 'basic', description: String });
  let v2 = 0;
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const operation of Object.values(item) as Json[]) {
      const scheme = schemeOf(path);
      t.same(operation.security, scheme ? [{ [scheme]: [] }] : [], path);
      if (scheme === 'twilioBasic') v2++;
    }
  }
  t.equal(v2, 9, 'every /v2 operation');
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
  const shown = json.json();
  t.ok(
    shown.paths['/v2/Services/{ServiceSid}/Verifications'].post.requestBody,
    '/docs shows /v2 with schemas',
  );
  t.ok(shown.paths['/api/phone/verify'].post.requestBody, '/docs shows /api/phone with schemas');
  t.ok(shown.components.securitySchemes.twilioBasic, '/docs shows the Basic scheme');
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

/** The fields of `value` its schema does not name (where the schema does not allow others). */
function undocumented(schema: Json, value: unknown, at = ''): string[] {
  if (Array.isArray(schema.anyOf)) {
    const branch = (schema.anyOf as Json[]).find((option) =>
      value === null ? option.type === 'null' : option.type !== 'null',
    );
    return branch ? undocumented(branch, value, at) : [`${at} (no branch)`];
  }
  if (Array.isArray(value) && schema.items) {
    return value.flatMap((item, i) => undocumented(schema.items as Json, item, `${at}[${i}]`));
  }
  if (value && typeof value === 'object' && schema.properties) {
    const properties = schema.properties as Record<string, Json>;
    return Object.entries(value).flatMap(([key, field]) => {
      if (!properties[key]) return schema.additionalProperties === true ? [] : [`${at}.${key}`];
      return undocumented(properties[key], field, `${at}.${key}`);
    });
  }
  return [];
}

t.test('the compatibility routes: request and response schemas that match what they send', async (t) => {
  const key = 'openapi-test-key-0123456789';
  const { app: fastify } = await build(t, { env: { API_KEYS: key } });
  const doc = (await fastify.inject('/openapi.json')).json();
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const inline = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(inline);
    if (node && typeof node === 'object') {
      const ref = (node as Json).$ref;
      if (typeof ref === 'string') return inline(doc.components.schemas[ref.split('/').at(-1)!]);
      return Object.fromEntries(Object.entries(node).map(([k, value]) => [k, inline(value)]));
    }
    return node;
  };

  // The document's shape for every compatibility operation.
  const form = ['application/x-www-form-urlencoded'];
  const drf = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];
  const fields: Record<string, [string[], string[], string[]]> = {
    'post /v2/Services': [form, ['FriendlyName', 'CodeLength'], ['FriendlyName']],
    'post /v2/Services/{ServiceSid}': [form, ['FriendlyName', 'CodeLength'], []],
    'post /v2/Services/{ServiceSid}/Verifications': [
      form,
      ['To', 'Channel', 'Locale', 'CustomFriendlyName', 'Amount', 'Payee'],
      ['To', 'Channel'],
    ],
    'post /v2/Services/{ServiceSid}/Verifications/{Sid}': [form, ['Status'], ['Status']],
    'post /v2/Services/{ServiceSid}/VerificationCheck': [
      form,
      ['Code', 'To', 'VerificationSid', 'Amount', 'Payee'],
      ['Code'],
    ],
    'post /api/phone/register': [drf, ['phone_number'], ['phone_number']],
    'post /api/phone/register/': [drf, ['phone_number'], ['phone_number']],
    'post /api/phone/verify': [
      drf,
      ['phone_number', 'session_token', 'security_code'],
      ['phone_number', 'session_token', 'security_code'],
    ],
    'post /api/phone/verify/': [
      drf,
      ['phone_number', 'session_token', 'security_code'],
      ['phone_number', 'session_token', 'security_code'],
    ],
  };
  let operations = 0;
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    if (!path.startsWith('/v2/') && !path.startsWith('/api/phone/')) continue;
    for (const [method, operation] of Object.entries(item) as [string, Json][]) {
      operations++;
      const name = `${method} ${path}`;
      const body = fields[name];
      const requestBody = operation.requestBody as Json | undefined;
      if (body) {
        const [types, names, required] = body;
        t.same(Object.keys((requestBody?.content as Json) ?? {}), types, `${name}: body types`);
        for (const type of types) {
          const schema = ((requestBody!.content as Json)[type] as Json).schema as Json;
          t.same(Object.keys(schema.properties as Json), names, `${name} ${type}: parameters`);
          t.same(schema.required ?? [], required, `${name} ${type}: required parameters`);
        }
      } else {
        t.notOk(requestBody, `${name} takes no body`);
      }
      const responses = operation.responses as Record<string, Json>;
      t.ok(
        Object.keys(responses).some((status) => Number(status) < 300),
        `${name}: a success answer`,
      );
      t.ok(
        Object.keys(responses).some((status) => Number(status) >= 400),
        `${name}: its errors`,
      );
      for (const [status, response] of Object.entries(responses)) {
        if (status === '204') continue;
        const media = response.content as Record<string, Json> | undefined;
        t.ok(media && Object.values(media).every((m) => m.schema), `${name} ${status} has a schema`);
        if (path.startsWith('/v2/') && Number(status) >= 400) {
          const schema = media!['application/json']!.schema as Json;
          t.same(
            schema.required,
            ['code', 'message', 'more_info', 'status'],
            `${name} ${status}: Twilio error`,
          );
          t.ok(Object.keys(media!['application/json']!.examples as Json).length > 0, 'with examples');
        }
      }
    }
  }
  t.equal(operations, 13, 'nine /v2 and four /api/phone operations');

  // Real answers, checked against the schema of their operation and status.
  const auth = `Basic ${Buffer.from(`AC${'b'.repeat(32)}:${key}`).toString('base64')}`;
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, docPath: string, payload?: string) => {
    const reply = await fastify.inject({
      method,
      url,
      headers: {
        authorization: url.startsWith('/v2/') ? auth : `Bearer ${key}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(payload === undefined ? {} : { payload }),
    });
    const response = doc.paths[docPath]?.[method.toLowerCase()]?.responses?.[String(reply.statusCode)];
    t.ok(response, `${method} ${docPath} ${reply.statusCode} is documented`);
    if (reply.statusCode !== 204 && response) {
      const schema = inline(response.content['application/json'].schema) as Json;
      const validate = ajv.compile(schema);
      const body = reply.json();
      t.ok(validate(body), `${method} ${docPath} ${reply.statusCode}: ${ajv.errorsText(validate.errors)}`);
      t.same(
        undocumented(schema, body),
        [],
        `${method} ${docPath} ${reply.statusCode}: every field documented`,
      );
    }
    return reply;
  };
  const service = (
    await call('POST', '/v2/Services', '/v2/Services', 'FriendlyName=Docs&CodeLength=6')
  ).json();
  t.equal(service.code_length, 6);
  const va = `/v2/Services/${service.sid}`;
  await call('POST', '/v2/Services', '/v2/Services', 'CodeLength=6');
  await call('GET', '/v2/Services?PageSize=1', '/v2/Services');
  await call('GET', va, '/v2/Services/{ServiceSid}');
  await call('POST', va, '/v2/Services/{ServiceSid}', 'FriendlyName=Docs2');
  const verifications = '/v2/Services/{ServiceSid}/Verifications';
  const started = await call(
    'POST',
    `${va}/Verifications`,
    verifications,
    'To=%2B14155550100&Channel=sms&Amount=9.99&Payee=Acme',
  );
  await call('POST', `${va}/Verifications`, verifications, 'To=%2B14155550100&Channel=call');
  const ve = `${va}/Verifications/${started.json().sid}`;
  await call('GET', ve, `${verifications}/{Sid}`);
  const check = '/v2/Services/{ServiceSid}/VerificationCheck';
  await call('POST', `${va}/VerificationCheck`, check, 'To=%2B14155550100&Code=000000000');
  await call('POST', `${va}/VerificationCheck`, check, 'To=%2B14155550101&Code=1');
  await call('POST', `${va}/VerificationCheck`, check, 'To=%2B14155550100');
  await call('POST', ve, `${verifications}/{Sid}`, 'Status=canceled');
  await call('POST', ve, `${verifications}/{Sid}`, 'Status=nope');
  await call('DELETE', va, '/v2/Services/{ServiceSid}');
  await call('GET', va, '/v2/Services/{ServiceSid}');
  const unauthorized = await fastify.inject({ method: 'GET', url: '/v2/Services' });
  t.equal(unauthorized.statusCode, 401);
  t.ok(
    ajv.validate(
      inline(doc.paths['/v2/Services'].get.responses['401'].content['application/json'].schema) as object,
      unauthorized.json(),
    ),
  );

  const register = await call(
    'POST',
    '/api/phone/register',
    '/api/phone/register',
    'phone_number=%2B14155550100',
  );
  await call('POST', '/api/phone/register/', '/api/phone/register/', 'phone_number=12');
  const token = register.json().session_token;
  await call(
    'POST',
    '/api/phone/verify',
    '/api/phone/verify',
    `phone_number=%2B14155550100&session_token=${token}&security_code=x`,
  );
  await call('POST', '/api/phone/verify/', '/api/phone/verify/', 'phone_number=%2B14155550100');
});
