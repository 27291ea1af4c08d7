// The configuration has one source, the table of settings (src/config/settings.ts): .env.example
// and docs/configuration.md are what `npm run config:generate` writes from it, every loaded value
// fits the table's TypeBox schema, and the schema's bounds and allowed values are the ones the
// loader enforces.
import { readFileSync } from 'node:fs';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { DOC_BEGIN, DOC_END, renderEnvExample, withSettingsTables } from '../scripts/config-reference.js';
import { entriesOf, isFamily, type Node, type Setting, type Variable } from '../src/config/definition.js';
import { CONFIG } from '../src/config/settings.js';
import { ConfigError, ConfigSchema, loadConfig } from '../src/config.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

function settingsOf(node: Node): Setting[] {
  return node.kind === 'setting' ? [node] : Object.values(node.children).flatMap(settingsOf);
}
const variables = entriesOf(CONFIG).filter((entry): entry is Variable => !isFamily(entry));

function refusal(env: Record<string, string>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

t.test('.env.example is what npm run config:generate writes', async (t) => {
  t.equal(read('.env.example'), renderEnvExample(read('docker-compose.yml')), 'run npm run config:generate');
});

t.test('docs/configuration.md has the tables npm run config:generate writes', async (t) => {
  const doc = read('docs/configuration.md');
  t.equal(doc, withSettingsTables(doc), 'run npm run config:generate');
  // Regeneration replaces what stands between the markers, a hand edit included.
  const begin = doc.indexOf(DOC_BEGIN) + DOC_BEGIN.length;
  const edited = `${doc.slice(0, begin)}\n| \`PORT\` | \`8080\` | edited by hand | |\n${doc.slice(doc.indexOf(DOC_END))}`;
  t.not(edited, doc);
  t.equal(withSettingsTables(edited), doc);
  for (const variable of variables) t.match(doc, `| \`${variable.name}\` |`, `${variable.name} has a row`);
});

t.test('every variable is described once, with its allowed values', async (t) => {
  const names = variables.map((variable) => variable.name);
  t.equal(new Set(names).size, names.length, 'no variable twice');
  for (const entry of entriesOf(CONFIG)) {
    const name = isFamily(entry) ? `${entry.prefix}<${entry.key}>` : entry.name;
    t.match(entry.description, /^\S.*[a-z].*\S$/, `${name}: a description`);
    t.notMatch(entry.description, /\n/, `${name}: one line`);
    t.ok(entry.allowed.length > 0, `${name}: allowed values`);
  }
});

t.test('loaded values fit the schema', async (t) => {
  t.ok(Value.Check(ConfigSchema, loadConfig({})), 'the defaults');
  const everything = loadConfig({
    PHONE_VERIFICATION_OPTIONS: '{"SID": "AC1"}',
    PHONE_VERIFICATION_OPTIONS_SECRET: 's',
    PHONE_VERIFICATION_MESSAGE_DE: 'Hallo {security_code}',
    PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_SECONDS: '60',
    DATABASE_URL: 'postgresql://u@db:5432/pv',
    API_KEYS: 'a,b',
    REDIS_URL: 'redis://127.0.0.1:6379',
    TRUST_PROXY: '10.0.0.0/8',
    PURGE_INTERVAL: 'off',
    ALLOWED_COUNTRIES: 'US,CA',
    FRAUD_GUARD_SAFE_LIST: '+1415555',
    SMS_BUDGET_MAX: '100',
    TEST_PHONE_NUMBERS: '+15555550100=123456',
    TEST_PHONE_NUMBERS_UNTIL: '2027-01-31T00:00:00Z',
    PHONE_VERIFICATION_FALLBACK_BACKEND: 'vonage',
    PUBLIC_URL: 'https://verify.example.com',
    SERVER_SECRET: 'x'.repeat(32),
  });
  t.same(
    [...Value.Errors(ConfigSchema, everything)].map((error) => error.path),
    [],
    'every field set',
  );
  t.ok(Value.Check(ConfigSchema, loadConfig({ TRUST_PROXY: '2' })), 'a hop count');
});

t.test('the documented default is the one applied', async (t) => {
  const env = Object.fromEntries(
    variables.flatMap((variable) =>
      variable.default === undefined ? [] : [[variable.name, variable.default]],
    ),
  );
  t.ok(Object.keys(env).length > 30);
  t.same(loadConfig(env), loadConfig({}));
});

t.test('the schema bounds are the ones enforced', async (t) => {
  let checked = 0;
  for (const setting of settingsOf(CONFIG)) {
    const schema: TSchema = setting.schema;
    if (schema[Kind] !== 'Integer' && schema[Kind] !== 'Number') continue;
    for (const { name } of setting.variables) {
      if (schema.minimum !== undefined) {
        const below = String(schema[Kind] === 'Number' ? schema.minimum - 0.01 : schema.minimum - 1);
        t.match(refusal({ [name]: below }), new RegExp(`^${name}: expected `), `${name}=${below}`);
        checked++;
      }
      if (schema.maximum !== undefined) {
        const above = String(schema[Kind] === 'Number' ? schema.maximum + 0.01 : schema.maximum + 1);
        t.match(refusal({ [name]: above }), new RegExp(`^${name}: expected `), `${name}=${above}`);
        checked++;
      }
    }
  }
  t.ok(checked >= 25, `${checked} bounds`);
});

t.test('the schema literals are the values accepted', async (t) => {
  let checked = 0;
  for (const setting of settingsOf(CONFIG)) {
    const schema: TSchema = setting.schema;
    const literals = schema[Kind] === 'Union' ? (schema.anyOf as TSchema[]) : [];
    if (literals.length === 0 || !literals.every((member) => member[Kind] === 'Literal')) continue;
    if (setting.variables.length === 0) continue; // derived (databaseKind)
    const [{ name }] = setting.variables as [Variable];
    for (const member of literals) {
      t.equal(refusal({ [name]: String(member.const).toUpperCase() }), undefined, `${name}=${member.const}`);
    }
    t.match(refusal({ [name]: 'no-such-value' }), new RegExp(`^${name}: expected one of `));
    checked++;
  }
  t.ok(checked >= 5, `${checked} settings`);
});
