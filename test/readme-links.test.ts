// README's links within itself land where they mean to: each #anchor is the slug of exactly one
// heading (as GitHub makes them), so no link lands on the first of two same-named headings.
import t from 'tap';
import { README, readmeHeadings } from './readme.js';

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

t.test('every in-page link names one heading', async (t) => {
  const slugs = readmeHeadings().map((heading) => slug(heading.text));
  const anchors = [...new Set([...README.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]!))];
  t.ok(anchors.length > 5, `README links to ${anchors.length} of its own sections`);
  for (const anchor of anchors) {
    t.equal(slugs.filter((s) => s === anchor).length, 1, `#${anchor}: exactly one heading`);
  }
});
