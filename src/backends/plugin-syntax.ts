// Finds the syntax error in a plugin file, for the refusal message. An ES module's SyntaxError
// carries no file or line, and a loader may report it as something else entirely, so the file is
// parsed again by `node --check` (only on the failure path, never for a plugin that loads).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface SyntaxProblem {
  /** 1-based line, when node reported one */
  line?: number;
  /** node's message, e.g. "Unexpected token ';'" */
  message: string;
}

// What a CommonJS parse says about a file that is really an ES module (Node then parses it as one).
const ESM_SIGNALS =
  /Cannot use import statement outside a module|Unexpected token 'export'|Cannot use 'import\.meta' outside a module|await is only valid/;

function check(source: string, inputType: 'module' | 'commonjs'): SyntaxProblem | undefined {
  const result = spawnSync(process.execPath, [`--input-type=${inputType}`, '--check'], {
    input: source,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 10_000,
  });
  if (result.status === 0) return undefined;
  const stderr = result.stderr ?? '';
  const line = /^\[stdin\]:(\d+)/m.exec(stderr)?.[1];
  const message = /^SyntaxError: (.*)$/m.exec(stderr)?.[1];
  if (!message) return undefined; // not a syntax problem (or node could not run): say nothing
  return { line: line ? Number(line) : undefined, message };
}

/** The file's own syntax error, or undefined when it parses (as Node would parse it). */
export function syntaxProblemIn(file: string): SyntaxProblem | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (file.endsWith('.mjs')) return check(source, 'module');
  if (file.endsWith('.cjs')) return check(source, 'commonjs');
  // .js: a package "type" or syntax detection decides; both parses failing is a syntax error.
  const asModule = check(source, 'module');
  if (!asModule) return undefined;
  const asCommonJs = check(source, 'commonjs');
  if (!asCommonJs) return undefined;
  return ESM_SIGNALS.test(asCommonJs.message) ? asModule : asCommonJs;
}
