// README.md as the tests read it: a section by its heading, and its fenced code blocks, so tests
// can run what the README tells a reader to write and type (and break when the two drift apart).
import { readFileSync } from 'node:fs';

export const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** README's headings (outside code blocks), with the line each is on. */
export function readmeHeadings(): { level: number; text: string; line: number }[] {
  const headings: { level: number; text: string; line: number }[] = [];
  let fenced = false;
  for (const [line, text] of README.split('\n').entries()) {
    if (text.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^(#+) (.*)$/.exec(text);
    if (heading) headings.push({ level: heading[1]!.length, text: heading[2]!, line });
  }
  return headings;
}

/** The text under a heading ("### In TypeScript") up to the next heading of its level or higher. */
export function readmeSection(heading: string): string {
  const headings = readmeHeadings();
  const index = headings.findIndex((h) => `${'#'.repeat(h.level)} ${h.text}` === heading);
  if (index === -1) throw new Error(`README has no heading ${JSON.stringify(heading)}`);
  const { level, line } = headings[index]!;
  const end = headings.slice(index + 1).find((h) => h.level <= level)?.line;
  return README.split('\n')
    .slice(line + 1, end)
    .join('\n');
}

export interface CodeBlock {
  /** the fence's language: sh, ts, js, jsonc, … */
  language: string;
  body: string;
  /** the path a file block names on its first line ("// plugins/nexmo.js"), if any */
  path?: string;
}

/** The fenced code blocks of a piece of README, in order. */
export function codeBlocks(text: string): CodeBlock[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, language, body]) => ({
    language: language!,
    body: body!,
    path: /^\/\/ ((?:plugins|src)\/\S+|tsconfig\.json)/.exec(body!)?.[1],
  }));
}
