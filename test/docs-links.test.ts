// The documentation's links land where they mean to: in README.md and every docs/*.md page, each
// relative link names a file or folder of the repository, and each #anchor is the slug of exactly
// one heading of the page it points into (as GitHub makes them), so no link lands on the first of
// two same-named headings. README links every docs page, so a newcomer can reach each one.
import { existsSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import t from 'tap';
import { docPages, REPO_ROOT, readDoc } from './docs.js';

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The link targets of a page's prose (not its code blocks or inline code). */
function linkTargets(path: string): string[] {
  return readDoc(path)
    .proseLines()
    .flatMap(({ text }) => [...text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)])
    .map((match) => match[1]!);
}

const pages = docPages();

t.test('the pages are README.md and docs/*.md, linked to one another', async (t) => {
  t.ok(pages.length > 5, pages.join(', '));
  const links = pages.flatMap(linkTargets).filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
  t.ok(links.length > 30, `${links.length} relative links in all`);
});

for (const page of pages) {
  t.test(`${page}: every relative link and #anchor resolves`, async (t) => {
    const targets = linkTargets(page).filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
    if (targets.length === 0) t.pass(`${page} has no relative links`);
    for (const target of targets) {
      const [file, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = file === '' ? page : normalize(join(dirname(page), file));
      t.notOk(
        relative(REPO_ROOT, join(REPO_ROOT, resolved)).startsWith('..'),
        `${target}: inside the repository`,
      );
      if (!t.ok(existsSync(join(REPO_ROOT, resolved)), `${target}: ${resolved} exists`)) continue;
      if (anchor === undefined) continue;
      t.ok(resolved.endsWith('.md'), `${target}: an anchor into a Markdown page`);
      const slugs = readDoc(resolved)
        .headings()
        .map((heading) => slug(heading.text));
      t.equal(slugs.filter((s) => s === anchor).length, 1, `${target}: exactly one heading of ${resolved}`);
    }
  });
}

t.test('README links every docs page', async (t) => {
  const linked = new Set(
    linkTargets('README.md')
      .map((target) => target.split('#')[0]!)
      .filter((file) => file.startsWith('docs/')),
  );
  for (const page of pages.filter((p) => p.startsWith('docs/'))) t.ok(linked.has(page), page);
});

t.test('README keeps the sections other pages are found by', async (t) => {
  const headings = readDoc('README.md')
    .headings()
    .map((heading) => heading.text);
  for (const heading of [
    'Protecting your SMS bill',
    'Moving from Twilio Verify',
    'Moving from django-phone-verify',
  ]) {
    t.ok(headings.includes(heading), heading);
  }
});
