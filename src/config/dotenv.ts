// .env files: read with Node's own parser, under the real environment.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './errors.js';

/**
 * Reads a .env file into `env` for each variable `env` does not already have: the real environment
 * wins. Returns the names it set, sorted; a missing file sets nothing. Only the processes' entry
 * points call it (npm start, npm run migrate, npm run purge).
 */
export function loadDotEnv(file = '.env', env: Record<string, string | undefined> = process.env): string[] {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`${path}: cannot be read (${(error as Error).message})`);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set.sort();
}
