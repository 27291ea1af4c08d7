// Loads a custom backend from a file in PLUGINS_DIR, django-phone-verify's way: "module.ClassName" takes
// export ClassName of module.js|.mjs|.cjs, a bare "module" takes its default export. The file is
// resolved explicitly and only inside PLUGINS_DIR, imported, shape-checked and constructed; each
// way this can fail is a ConfigError of one line that names the file or export and the cause.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, isSecretName } from '../config.js';
import { BaseBackend } from './base.js';
import { constructBackend, isConstructor } from './plugin-adapter.js';
import { syntaxProblemIn } from './plugin-syntax.js';
import { installSelfImport } from './self-import.js';

/** The extensions a plugin file may have, in the order they are looked up. */
export const PLUGIN_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

const VARIABLE = 'PHONE_VERIFICATION_BACKEND';
const MODULE_NAME = /^[A-Za-z0-9_-]+$/;
const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

export interface PluginReference {
  module: string;
  /** the export to use: the part after the dot, or "default" */
  exportName: string;
}

function refuse(message: string): never {
  throw new ConfigError(`${VARIABLE}: ${message}`);
}

/** Splits "module.ClassName" / "module"; refuses anything that could name a path. */
export function parsePluginReference(name: string): PluginReference {
  const dot = name.indexOf('.');
  const module = dot === -1 ? name : name.slice(0, dot);
  const exportName = dot === -1 ? 'default' : name.slice(dot + 1);
  if (!MODULE_NAME.test(module) || (dot !== -1 && !EXPORT_NAME.test(exportName))) {
    refuse(
      `${JSON.stringify(name)} is not "module.ClassName" or "module" (a file name in PLUGINS_DIR without extension: letters, digits, "_" and "-"; no paths)`,
    );
  }
  return { module, exportName };
}

/** What PLUGINS_DIR holds, for the "unknown backend" message: its plugin files, or why none. */
export function describePluginsDir(pluginsDir: string): string {
  const dir = resolve(pluginsDir);
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => !entry.isDirectory() && PLUGIN_EXTENSIONS.some((ext) => entry.name.endsWith(ext)))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return `PLUGINS_DIR ${dir} (no such folder)`;
  }
  return `PLUGINS_DIR ${dir} (${files.length ? `it has: ${files.join(', ')}` : 'it has no plugin files'})`;
}

function isInside(dir: string, file: string): boolean {
  const path = relative(dir, file);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

/**
 * The real path of module.js|.mjs|.cjs inside PLUGINS_DIR. Undefined when there is none (or no
 * folder); refuses
 * when two extensions match or when the file (through a symlink) leads outside the folder.
 */
export function resolvePluginFile(pluginsDir: string, reference: PluginReference): string | undefined {
  const dir = resolve(pluginsDir);
  let realDir: string;
  try {
    realDir = realpathSync(dir);
    if (!statSync(realDir).isDirectory()) return undefined;
  } catch {
    return undefined; // no folder, no such plugin: the caller reports the name as unknown
  }
  const found = PLUGIN_EXTENSIONS.map((ext) => join(dir, `${reference.module}${ext}`)).filter((file) => {
    try {
      statSync(file);
      return true;
    } catch {
      return false;
    }
  });
  if (found.length === 0) return undefined;
  if (found.length > 1) {
    refuse(`${found.join(' and ')} both match ${JSON.stringify(reference.module)}; keep one of them`);
  }
  const file = found[0]!;
  const real = realpathSync(file);
  if (!isInside(realDir, real)) {
    refuse(`${file} leads to ${real}, outside PLUGINS_DIR ${realDir}; plugin files must be inside it`);
  }
  if (!statSync(real).isFile()) refuse(`${file} is not a file`);
  return real;
}

/** The first line of a message, without secret option values, kept short. */
function oneLine(message: string, options: Record<string, unknown>): string {
  let line =
    message
      .split('\n')
      .map((part) => part.trim())
      .find(Boolean) ?? '';
  for (const [key, value] of Object.entries(options)) {
    if (isSecretName(key) && typeof value === 'string' && value.length >= 4)
      line = line.split(value).join('***');
  }
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function pathOf(location: string): string {
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}

/** Where a CommonJS SyntaxError is, from the first line of its stack ("/plugins/x.cjs:3"). */
function commonJsSyntaxLocation(error: Error): { file: string; line: string } | undefined {
  const match = /^(\/.*):(\d+)$/.exec(error.stack?.split('\n')[0]?.trim() ?? '');
  return match ? { file: match[1]!, line: match[2]! } : undefined;
}

/** The package.json that decides how a .js file is read: the nearest one above it. */
function packageJsonAbove(file: string): { path: string; type: unknown } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    try {
      return { path, type: (JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }).type };
    } catch {}
    if (dirname(dir) === dir) return undefined;
  }
}

// What Node says when CommonJS code runs as an ES module ("module is not defined in ES module scope").
const COMMONJS_IN_ESM = /^(module|exports|require|__filename|__dirname) is not defined in ES module scope/;

/** A CommonJS plugin named .js inside a "type": "module" package: the way out is the .cjs name. */
function commonJsAsModule(file: string, err: Error): ConfigError | undefined {
  const used = COMMONJS_IN_ESM.exec(err.message)?.[1];
  if (err.name !== 'ReferenceError' || !used || !file.endsWith('.js')) return undefined;
  const owner = packageJsonAbove(file);
  const because = owner?.type === 'module' ? `, because ${owner.path} sets "type": "module"` : '';
  return new ConfigError(
    `${VARIABLE}: ${file} is CommonJS (it uses ${used}) but is loaded as an ES module${because}; rename it ${basename(file, '.js')}.cjs (or write it with import/export)`,
  );
}

/** Tells apart why importing the file failed: syntax, a missing dependency, or its own code. */
function importFailure(file: string, error: unknown, options: Record<string, unknown>): ConfigError {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as NodeJS.ErrnoException).code;
  const message = oneLine(err.message, options);
  // Loaders other than Node's own may drop the code, never the message.
  if (
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /^Cannot find (package|module) '/.test(err.message)
  ) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(err.message)?.[1] ?? message;
    const importer =
      /imported from (\S+)/.exec(err.message)?.[1] ?? /Require stack:\n- (\S+)/.exec(err.message)?.[1];
    const via = importer && pathOf(importer) !== file ? ` (through ${pathOf(importer)})` : '';
    const bare = !/^(\.|\/|file:)/.test(missing);
    const pkg = missing
      .split('/')
      .slice(0, missing.startsWith('@') ? 2 : 1)
      .join('/');
    const hint = bare ? `; install it in PLUGINS_DIR (npm install ${pkg})` : '';
    return new ConfigError(
      `${VARIABLE}: ${file} imports ${JSON.stringify(missing)}${via}, which cannot be found${hint}`,
    );
  }
  const commonJs = commonJsAsModule(file, err);
  if (commonJs) return commonJs;
  if (err.name === 'SyntaxError' && /does not provide an export named/.test(err.message)) {
    return new ConfigError(`${VARIABLE}: ${file} cannot be linked: ${message}`);
  }
  const own = syntaxProblemIn(file);
  if (own) {
    const at = own.line ? ` at line ${own.line}` : '';
    return new ConfigError(`${VARIABLE}: ${file} has a syntax error${at}: ${oneLine(own.message, options)}`);
  }
  if (err.name === 'SyntaxError') {
    const where = commonJsSyntaxLocation(err);
    const culprit = where ? `${where.file} (line ${where.line}), which it imports,` : 'a module it imports';
    return new ConfigError(`${VARIABLE}: ${file} failed to load: ${culprit} has a syntax error: ${message}`);
  }
  return new ConfigError(`${VARIABLE}: ${file} failed to load: ${err.name}: ${message}`);
}

/** The names a module exposes (a CommonJS module's exports object included). */
function exportNamesOf(namespace: Record<string, unknown>): string[] {
  const names = new Set(Object.keys(namespace));
  const commonJs = namespace['module.exports'] ?? namespace.default;
  if (commonJs && (typeof commonJs === 'object' || typeof commonJs === 'function')) {
    for (const key of Object.keys(commonJs)) if (key !== '__esModule') names.add(key);
  }
  names.delete('module.exports');
  return [...names].sort();
}

/** The export a reference names; CommonJS exports objects and transpiled `exports.default` included. */
function pickExport(namespace: Record<string, unknown>, exportName: string): unknown {
  const direct = namespace[exportName];
  if (exportName === 'default') {
    if (isConstructor(direct)) return direct;
    const inner = (direct as Record<string, unknown> | undefined)?.default;
    return inner === undefined ? direct : inner;
  }
  if (direct !== undefined) return direct;
  // A CommonJS name the static analysis of its exports missed (module.exports = someObject).
  const commonJs = namespace.default;
  const isHolder = commonJs !== null && (typeof commonJs === 'object' || typeof commonJs === 'function');
  if (
    isHolder &&
    Object.hasOwn(commonJs, exportName) &&
    !['name', 'length', 'prototype'].includes(exportName)
  ) {
    return (commonJs as Record<string, unknown>)[exportName];
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function that cannot be called with new (an arrow or a method?)';
  return `a value of type ${typeof value}`;
}

/**
 * Imports the named plugin from PLUGINS_DIR and constructs it. Returns undefined when the folder
 * has no file of that name (the caller then reports the name as unknown).
 */
export async function loadPluginBackend(
  name: string,
  options: Record<string, unknown>,
  pluginsDir: string,
): Promise<BaseBackend | undefined> {
  const reference = parsePluginReference(name);
  const file = resolvePluginFile(pluginsDir, reference);
  if (!file) return undefined;

  installSelfImport();
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw importFailure(file, error, options);
  }

  const { exportName } = reference;
  const exported = pickExport(namespace, exportName);
  const what = exportName === 'default' ? `the default export of ${file}` : `export ${exportName} of ${file}`;
  if (exported === undefined) {
    const names = exportNamesOf(namespace).filter((key) => key !== 'default');
    const listed = names.length ? `its exports: ${names.join(', ')}` : 'it exports nothing';
    if (exportName === 'default') {
      refuse(
        `${file} has no default export (${listed}); name the class as ${JSON.stringify(`${reference.module}.ClassName`)}`,
      );
    }
    const extensionHint = (PLUGIN_EXTENSIONS as readonly string[]).includes(`.${exportName}`)
      ? `; to use the default export, name the module alone: ${JSON.stringify(reference.module)}`
      : '';
    refuse(`${file} has no export ${JSON.stringify(exportName)} (${listed})${extensionHint}`);
  }
  if (!isConstructor(exported)) {
    // Typically a CommonJS `module.exports = { NexmoBackend }` named by its bare module name.
    const classes =
      exportName === 'default' && exported !== null && typeof exported === 'object'
        ? Object.keys(exported).filter((key) => isConstructor((exported as Record<string, unknown>)[key]))
        : [];
    const hint = classes.length
      ? `; it holds ${classes.join(', ')}: name one as ${JSON.stringify(`${reference.module}.${classes[0]}`)}`
      : '';
    refuse(`${what} is not a class: got ${describeValue(exported)}${hint}`);
  }

  let backend: BaseBackend | undefined;
  try {
    backend = constructBackend(exported, options);
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    refuse(`new ${exported.name || exportName}(options) (${what}) threw: ${oneLine(err.message, options)}`);
  }
  if (!backend) {
    refuse(`new ${exported.name || exportName}(options) (${what}) returned another object, not its instance`);
  }
  if (typeof backend.sendSms !== 'function' || backend.sendSms === BaseBackend.prototype.sendSms) {
    refuse(`class ${exported.name || exportName} (${what}) has no sendSms(number, message) method`);
  }
  return backend;
}
