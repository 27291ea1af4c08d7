// The receiver snippets of docs/delivery.md, run as written against what the webhook backend
// actually sends: the Node.js verifySignature and the Python verify_signature accept a genuine
// signature and refuse another key, a changed body and a stale timestamp.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { webhookSignature } from '../../src/backends/webhook.js';

const run = promisify(execFile);
const DOC = readFileSync('docs/delivery.md', 'utf8');
const SECRET = 'docs-snippet-secret';
const BODY = JSON.stringify({ to: '+14155550100', message: 'Your code is 123456 (ü)' });

function block(language: string): string {
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!match) throw new Error(`no ${language} block in docs/delivery.md`);
  return match[1]!;
}

const dir = mkdtempSync(join(tmpdir(), 'pv-doc-snippets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const now = Math.floor(Date.now() / 1000);
const header = webhookSignature(SECRET, now, BODY);

t.test('the Node.js receiver', async (t) => {
  // The function as documented, without the example server that listens.
  const source = block('js').split('\ncreateServer(')[0]!;
  const file = join(dir, 'receiver.mjs');
  writeFileSync(file, source);
  const { verifySignature } = await import(pathToFileURL(file).href);
  const raw = Buffer.from(BODY, 'utf8');
  t.equal(verifySignature(header, raw, SECRET, now), true, 'genuine');
  t.equal(verifySignature(header, raw, 'another-secret', now), false, 'another key');
  t.equal(
    verifySignature(header, Buffer.from(BODY.replace('123456', '654321')), SECRET, now),
    false,
    'changed body',
  );
  t.equal(verifySignature(header, raw, SECRET, now + 301), false, 'stale');
  t.equal(verifySignature(undefined, raw, SECRET, now), false, 'no header');
});

t.test('the Python receiver', async (t) => {
  const file = join(dir, 'receiver.py');
  writeFileSync(
    file,
    `${block('python')}
import json, sys
header, body, now = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
print(json.dumps([
    verify_signature(header, body, b"${SECRET}", now),
    verify_signature(header, body, b"another-secret", now),
    verify_signature(header, body.replace(b"123456", b"654321"), b"${SECRET}", now),
    verify_signature(header, body, b"${SECRET}", now + 301),
    verify_signature("", body, b"${SECRET}", now),
]))
`,
  );
  let stdout: string;
  try {
    ({ stdout } = await run('python3', [file, header, BODY, String(now)]));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      t.pass('python3 is not installed here', { skip: 'python3 not installed' });
      return;
    }
    throw error;
  }
  t.same(JSON.parse(stdout), [true, false, false, false, false]);
});
