// README's curl walk-through, run as written against the real app with the default console
// backend: each curl command's method, path, headers and body as the page spells them (the
// <placeholders> filled from the answers before, the code from the console backend's log line), and
// each answer held to the status and fields of its `# → …` comment. A renamed route or field, or a
// changed status, breaks this test before it breaks a newcomer's first try.
import t from 'tap';
import { codeBlocks, readDoc } from './docs.js';
import { build } from './helper.js';

interface Curl {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** the `# → STATUS {json}` line after the command */
  expected: { status: number; body: Record<string, unknown> };
}

/** Words of a shell command line: single-quoted strings kept whole, without their quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/** The curl commands of a sh block, each with the answer its comment promises. */
function curls(block: string): Curl[] {
  const lines = block.replace(/\\\n\s*/g, ' ').split('\n');
  const commands: Curl[] = [];
  for (const [index, line] of lines.entries()) {
    if (!line.startsWith('curl ')) continue;
    const args = words(line).slice(1);
    let method = 'GET';
    let url: string | undefined;
    let body: string | undefined;
    const headers: Record<string, string> = {};
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === '-s') continue;
      if (arg === '-X') method = args[++i]!;
      else if (arg === '-H') {
        const [name, ...value] = args[++i]!.split(':');
        headers[name!.trim().toLowerCase()] = value.join(':').trim();
      } else if (arg === '-d') {
        body = args[++i]!;
        if (method === 'GET') method = 'POST';
      } else url = arg;
    }
    const promise = /^# → (\d{3}) (\{.*\})$/.exec(lines[index + 1] ?? '');
    if (!url || !promise) throw new Error(`README: cannot read ${JSON.stringify(line)}`);
    commands.push({
      method,
      path: url.replace(/^(https?:\/\/)?localhost:3000/, ''),
      headers,
      body,
      // `[…]` stands for a list the page does not spell out, as `…` for a value.
      expected: { status: Number(promise[1]), body: JSON.parse(promise[2]!.replaceAll('[…]', '"…"')) },
    });
  }
  return commands;
}

const section = readDoc('README.md').section('## Try it with curl');
const commands = codeBlocks(section)
  .filter((block) => block.language === 'sh')
  .flatMap((block) => curls(block.body));

t.test('the walk-through starts, verifies and reads back a session', async (t) => {
  t.same(
    commands.map((command) => `${command.method} ${command.path.replace(/<[^>]+>/g, '{}')}`),
    ['POST /v1/verifications', 'POST /v1/verifications/verify', 'GET /v1/verifications/{}'],
  );
});

t.test("README's curl commands, as written, answer as their comments say", async (t) => {
  const { app, logs, lastCode } = await build(t, { env: { PHONE_VERIFICATION_BACKEND: 'console' } });
  const answers: Record<string, unknown> = {};
  const fill = (text: string) =>
    text
      .replaceAll('<the code>', () => lastCode())
      .replace(/<(\w+)>/g, (placeholder, name: string) => {
        if (typeof answers[name] !== 'string') throw new Error(`no earlier answer has ${placeholder}`);
        return answers[name] as string;
      });

  for (const command of commands) {
    const response = await app.inject({
      method: command.method as 'GET' | 'POST',
      url: fill(command.path),
      headers: command.headers,
      ...(command.body === undefined ? {} : { payload: fill(command.body) }),
    });
    const label = `${command.method} ${command.path}`;
    t.equal(response.statusCode, command.expected.status, `${label}: ${response.body}`);
    const body = response.json() as Record<string, unknown>;
    t.same(Object.keys(body).sort(), Object.keys(command.expected.body).sort(), `${label}: the fields`);
    for (const [field, value] of Object.entries(command.expected.body)) {
      if (value !== '…') t.same(body[field], value, `${label}: ${field}`);
    }
    Object.assign(answers, body);

    if (command.path === '/v1/verifications') {
      // The log line the page shows, with the code the console backend really wrote.
      const shown = codeBlocks(section)
        .find((block) => block.language === '')!
        .body.trim();
      const logged = logs.entries.find((entry) => entry.backend === 'console' && entry.message)?.message;
      t.equal(shown.replace(/\d{6}/, lastCode()), `"message":${JSON.stringify(logged)}`, 'the log line');
    }
  }

  // "The same code again is 400 security_code_already_verified"
  const again = commands[1]!;
  const response = await app.inject({
    method: 'POST',
    url: again.path,
    headers: again.headers,
    payload: fill(again.body!),
  });
  t.equal(response.statusCode, 400);
  t.equal(response.json().code, 'security_code_already_verified');
});
