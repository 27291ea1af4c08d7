// README.md and docs/*.md as the tests read them: a page's headings, a section by its heading, and
// the fenced code blocks of a piece of it, so tests can run what the documentation tells a reader
// to write and type (and break when the two drift apart).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder, which page paths are relative to. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Heading {
  level: number;
  text: string;
  /** 0-based line of the page the heading is on */
  line: number;
}

export interface CodeBlock {
  /** the fence's language: sh, ts, js, jsonc, … */
  language: string;
  body: string;
  /** the path a file block names on its first line ("// plugins/nexmo.js"), if any */
  path?: string;
}

/** Every documentation page: README.md, then docs/*.md, as paths from the repository root. */
export function docPages(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** One page of the documentation, read from its path in the repository ("docs/backends.md"). */
export class DocPage {
  readonly path: string;
  readonly text: string;

  constructor(path: string) {
    this.path = path;
    this.text = readFileSync(join(REPO_ROOT, path), 'utf8');
  }

  /** The page's lines outside fenced code blocks, each with its 0-based number. */
  proseLines(): { line: number; text: string }[] {
    const lines: { line: number; text: string }[] = [];
    let fenced = false;
    for (const [line, text] of this.text.split('\n').entries()) {
      if (text.startsWith('```')) {
        fenced = !fenced;
        continue;
      }
      if (!fenced) lines.push({ line, text });
    }
    return lines;
  }

  /** The page's headings (outside code blocks), in order. */
  headings(): Heading[] {
    return this.proseLines().flatMap(({ line, text }) => {
      const heading = /^(#+) (.*)$/.exec(text);
      return heading ? [{ level: heading[1]!.length, text: heading[2]!, line }] : [];
    });
  }

  /** The text under a heading ("### In TypeScript") up to the next heading of its level or higher. */
  section(heading: string): string {
    const headings = this.headings();
    const index = headings.findIndex((h) => `${'#'.repeat(h.level)} ${h.text}` === heading);
    if (index === -1) throw new Error(`${this.path} has no heading ${JSON.stringify(heading)}`);
    const { level, line } = headings[index]!;
    const end = headings.slice(index + 1).find((h) => h.level <= level)?.line;
    return this.text
      .split('\n')
      .slice(line + 1, end)
      .join('\n');
  }
}

/** The page at a path from the repository root ("README.md", "docs/backends.md"). */
export function readDoc(path: string): DocPage {
  return new DocPage(path);
}

/** The fenced code blocks of a piece of a page, in order. */
export function codeBlocks(text: string): CodeBlock[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, language, body]) => ({
    language: language!,
    body: body!,
    path: /^\/\/ ((?:plugins|src)\/\S+|tsconfig\.json)/.exec(body!)?.[1],
  }));
}
