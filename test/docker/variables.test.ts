// The Dockerfile, docker-compose.yml and .env.example name the same variables as the config: no
// typo there can silently configure nothing, and no setting goes undocumented in .env.example.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { ENV_VARIABLE_PREFIXES, ENV_VARIABLES, loadConfig } from '../../src/config.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const known = (name: string) =>
  (ENV_VARIABLES as readonly string[]).includes(name) ||
  ENV_VARIABLE_PREFIXES.some((prefix) => name.startsWith(prefix) && name.length > prefix.length);

const compose = parse(read('docker-compose.yml')) as {
  services: Record<
    string,
    { environment?: Record<string, string>; volumes?: string[]; depends_on?: unknown }
  >;
  volumes: Record<string, unknown>;
};
/** ${NAME…} substitutions: compose's own knobs, which .env may set too. */
const composeKnobs = [...read('docker-compose.yml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);

function dockerfileEnv(text: string): string[] {
  const names: string[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const match = /^\s*ENV\s+(.*)$/.exec(line);
    if (match) for (const pair of match[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)) names.push(pair[1]!);
  }
  return names;
}

t.test('ENV_VARIABLES is exactly what loadConfig reads', async (t) => {
  // An environment that records every name looked up: behaviour, not a scan of the source.
  const looked = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (target, name) => {
      if (typeof name === 'string') looked.add(name);
      return Reflect.get(target, name);
    },
  });
  loadConfig(env);
  t.same([...looked].sort(), [...ENV_VARIABLES].sort());
  t.equal(new Set(ENV_VARIABLES).size, ENV_VARIABLES.length, 'no duplicates');
  // the families are read by prefix
  const config = loadConfig({ PHONE_VERIFICATION_OPTIONS_SID: 'x', PHONE_VERIFICATION_MESSAGE_DE: 'Hallo' });
  t.same(config.backendOptions, { sid: 'x' });
  t.same(config.messages, { DE: 'Hallo' });
});

t.test('.env.example documents every variable, and only those', async (t) => {
  const text = read('.env.example');
  const named = [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
  for (const name of ENV_VARIABLES) t.ok(named.includes(name), `${name} is in .env.example`);
  for (const prefix of ENV_VARIABLE_PREFIXES) {
    t.ok(
      named.some((name) => name.startsWith(prefix)),
      `a ${prefix}* example is in .env.example`,
    );
  }
  for (const name of named)
    t.ok(known(name) || composeKnobs.includes(name), `${name} in .env.example is a real setting`);
  // every variable comes with a line saying what it does
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (!/^#\s*[A-Z][A-Z0-9_]*=/.test(line)) continue;
    let above = index - 1;
    while (above >= 0 && /^#\s*[A-Z][A-Z0-9_]*=/.test(lines[above]!)) above--;
    t.match(lines[above], /^# \S.*[a-z]/, `${line.split('=')[0]} has a description`);
  }
});

t.test('.env.example defaults are the config defaults', async (t) => {
  const defaults = loadConfig({});
  const text = read('.env.example');
  const value = (name: string) =>
    new RegExp(`^#\\s*${name}=(.*)$`, 'm').exec(text)?.[1]?.replace(/^"|"$/g, '');
  t.equal(value('PHONE_VERIFICATION_BACKEND'), defaults.backend);
  t.equal(Number(value('PHONE_VERIFICATION_TOKEN_LENGTH')), defaults.tokenLength);
  t.equal(value('PHONE_VERIFICATION_MESSAGE'), defaults.message);
  t.equal(value('PHONE_VERIFICATION_APP_NAME'), defaults.appName);
  t.equal(Number(value('PHONE_VERIFICATION_RECORD_RETENTION_DAYS')), defaults.recordRetentionDays);
  t.equal(Number(value('PORT')), defaults.port);
  t.equal(value('DATABASE_URL'), defaults.databaseUrl);
  t.equal(value('PLUGINS_DIR'), defaults.pluginsDir);
  // every example line parses as the service would read it
  const env = Object.fromEntries(
    [...text.matchAll(/^#\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)]
      .filter(([, name]) => known(name!))
      .map(([, name, raw]) => [name!, raw!.replace(/^"|"$/g, '')]),
  );
  t.doesNotThrow(() => loadConfig(env), 'all example values are valid together');
});

t.test('Dockerfile ENV names only real settings', async (t) => {
  const names = dockerfileEnv(read('Dockerfile'));
  t.ok(names.includes('DATABASE_URL') && names.includes('PLUGINS_DIR'));
  for (const name of names) {
    // NODE_ENV is Node's own, not a phone-verify setting
    if (name !== 'NODE_ENV') t.ok(known(name), `ENV ${name} is a setting`);
  }
  const config = loadConfig(
    Object.fromEntries(
      [
        ...read('Dockerfile')
          .replace(/\\\n/g, ' ')
          .matchAll(/([A-Z_]+)=(\S+)/g),
      ].map(([, k, v]) => [k!, v!]),
    ),
  );
  t.equal(config.databaseUrl, 'file:/data/phone-verify.db');
  t.equal(config.pluginsDir, '/plugins');
});

t.test('docker-compose.yml: settings, services, health, volumes', async (t) => {
  const service = compose.services['phone-verify']!;
  for (const name of Object.keys(service.environment ?? {}))
    t.ok(known(name), `environment ${name} is a setting`);
  t.match(service.environment?.DATABASE_URL, /^postgresql:\/\/[^@]+@postgres:5432\//);
  t.match(service.environment?.REDIS_URL, /^redis:\/\/redis:6379/);
  t.ok(loadConfig(service.environment ?? {}), 'its values are valid');
  t.ok(service.volumes?.includes('./plugins:/plugins:ro'), 'plugins mounted read-only');
  t.ok(
    service.volumes?.some((volume) => /^[a-z-]+:\/data$/.test(volume)),
    'a named volume on /data',
  );
  t.same(service.depends_on, {
    postgres: { condition: 'service_healthy' },
    redis: { condition: 'service_healthy' },
  });
  for (const name of ['postgres', 'redis'])
    t.ok((compose.services[name] as Json).healthcheck, `${name} health check`);
  t.match((compose.services.postgres as Json).image, /^postgres:1[56]/);
  // The container listens where the port mapping and the health check look, whatever .env says.
  t.match(service.environment, { PORT: '3000', HOST: '0.0.0.0', PLUGINS_DIR: '/plugins' });
});

t.test('docker-compose.yml: only syntax every common compose implementation reads', async (t) => {
  const service = compose.services['phone-verify'] as Json;
  // The path/required form is Compose 2.24+; docker-compose 1.29 refuses it and podman-compose
  // 1.0.3 fails with "join() argument must be str … not 'dict'".
  t.equal(service.env_file, '.env', 'env_file is the plain file name');
  for (const [, name, defaultValue] of read('docker-compose.yml').matchAll(
    /\$\{([A-Z_][A-Z0-9_]*)([^}]*)\}/g,
  )) {
    // podman-compose 1.0.3 leaves "${NAME:-}" (an empty default) in the value as it is.
    t.match(defaultValue, /^:-.+/, `\${${name}} has a non-empty default`);
  }
});

type Json = Record<string, unknown>;
