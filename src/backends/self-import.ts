// Makes `import … from 'phone-verify'` (ESM) and `require('phone-verify')` (CommonJS) work in a
// plugin file anywhere on disk, with nothing installed beside it, and give the very BaseBackend
// class this running service uses. Resolving the specifier to a file would risk a second copy of
// the class (and a second copy breaks instanceof and the base-validation check), so both faces
// return the object the service publishes on globalThis instead.
import * as nodeModule from 'node:module';
import * as publicApi from '../public.js';

/** Where the running service publishes the 'phone-verify' exports for plugins. */
const PUBLISHED = Symbol.for('phone-verify.public');

/** The URL the ESM face resolves 'phone-verify' to: not a file, so no copy can be loaded. */
const SELF_URL = 'phone-verify:public';

// The service's own package.json: plugins may fall back to the packages the service depends on.
const serviceManifest = new URL('../../package.json', import.meta.url);
const serviceRequire = nodeModule.createRequire(serviceManifest);

/** What the ESM hooks need to know: data only, since they may run on another thread. */
interface HookData {
  selfUrl: string;
  /** the module 'phone-verify' loads as: it reads the published object */
  selfSource: string;
  fallbackParentURL: string;
  servicePackages: string[];
}

type Resolved = { url: string; format?: string; shortCircuit?: boolean };
type Loaded = { format: string; source?: string; shortCircuit?: boolean };
type NextResolve = (specifier: string, context: { parentURL?: string }) => Resolved | Promise<Resolved>;
type NextLoad = (url: string, context: object) => Loaded | Promise<Loaded>;

/**
 * The npm package a bare specifier names ('@scope/pkg/sub' → '@scope/pkg'). Self-contained: its
 * source is also sent to the loader thread.
 */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The ESM resolve and load hooks. One implementation for both ways Node.js runs them: on the main
 * thread with module.registerHooks() (Node.js 22.15 and later; `next…` answer at once) and on a
 * loader thread with module.register() (Node.js 20; `next…` answer with a promise). For the loader
 * thread its source text is what is sent, with packageNameOf's: it may use nothing else outside
 * itself (which also rules out coverage instrumentation of this file).
 */
function selfImportHooks({ selfUrl, selfSource, fallbackParentURL, servicePackages }: HookData) {
  const fallback = new Set(servicePackages);
  const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
    typeof (value as { then?: unknown } | undefined)?.then === 'function';
  // A plugin's own node_modules wins; a package the service itself depends on is the fallback.
  // (Some loaders drop the error code, never the message.) Fails with the first error.
  const orServicePackage = (specifier: string, context: object, next: NextResolve, error: unknown) => {
    const { code, message } = (error ?? {}) as { code?: string; message?: string };
    const notFound = code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(String(message));
    if (!notFound || !fallback.has(packageNameOf(specifier))) throw error;
    let retried: Resolved | Promise<Resolved>;
    try {
      retried = next(specifier, { ...context, parentURL: fallbackParentURL });
    } catch {
      throw error;
    }
    return isPromise(retried)
      ? retried.catch(() => {
          throw error;
        })
      : retried;
  };
  return {
    resolve(specifier: string, context: object, next: NextResolve): Resolved | Promise<Resolved> {
      if (specifier === 'phone-verify') return { url: selfUrl, format: 'module', shortCircuit: true };
      let resolved: Resolved | Promise<Resolved>;
      try {
        resolved = next(specifier, context);
      } catch (error) {
        return orServicePackage(specifier, context, next, error);
      }
      return isPromise(resolved)
        ? resolved.catch((error: unknown) => orServicePackage(specifier, context, next, error))
        : resolved;
    },
    load(url: string, context: object, next: NextLoad): Loaded | Promise<Loaded> {
      if (url === selfUrl) return { format: 'module', source: selfSource, shortCircuit: true };
      return next(url, context);
    },
  };
}

/** The loader-thread module for module.register(): the same hooks, built from its data. */
const LOADER_THREAD_SOURCE = `
${packageNameOf.toString()}
const selfImportHooks = ${selfImportHooks.toString()};
let hooks;
export function initialize(data) { hooks = selfImportHooks(data); }
export function resolve(specifier, context, next) { return hooks.resolve(specifier, context, next); }
export function load(url, context, next) { return hooks.load(url, context, next); }
`;

interface CjsLoader {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}

type RegisterHooks = (hooks: ReturnType<typeof selfImportHooks>) => unknown;

function servicePackages(): string[] {
  try {
    const manifest = serviceRequire('./package.json') as { dependencies?: Record<string, string> };
    return Object.keys(manifest.dependencies ?? {});
  } catch {
    return []; // an install without its package.json: plugins bring their own packages
  }
}

function selfSource(): string {
  const names = Object.keys(publicApi)
    .filter((name) => name !== 'default')
    .map((name) => `export const ${name} = api.${name};`);
  return [
    `const api = globalThis[Symbol.for(${JSON.stringify(PUBLISHED.description)})];`,
    `if (!api) throw new Error("phone-verify: 'phone-verify' is only importable by backends the service loads");`,
    ...names,
    'export default api;',
  ].join('\n');
}

let installed = false;

/**
 * Publishes this service's 'phone-verify' exports and, once per process, installs the ESM and
 * CommonJS resolution hooks. Called before a plugin file is imported.
 */
export function installSelfImport(): void {
  // Published on every call: the service that loads the plugin is the one whose class counts.
  (globalThis as Record<symbol, unknown>)[PUBLISHED] = Object.freeze({ ...publicApi });
  if (installed) return;
  installed = true;

  const packages = servicePackages();
  const data: HookData = {
    selfUrl: SELF_URL,
    selfSource: selfSource(),
    fallbackParentURL: serviceManifest.href,
    servicePackages: packages,
  };
  // On this thread where Node.js can (22.15+); module.register() starts a loader thread that
  // stays for the process's life and holds ~12 MB.
  const registerHooks = (nodeModule as { registerHooks?: RegisterHooks }).registerHooks;
  if (registerHooks) registerHooks(selfImportHooks(data));
  else nodeModule.register(`data:text/javascript,${encodeURIComponent(LOADER_THREAD_SOURCE)}`, { data });

  const cjs = nodeModule.Module as unknown as CjsLoader;
  const load = cjs._load;
  cjs._load = function loadWithSelf(request, parent, isMain) {
    if (request === 'phone-verify') return (globalThis as Record<symbol, unknown>)[PUBLISHED];
    return load.call(this, request, parent, isMain);
  };
  const resolveFilename = cjs._resolveFilename;
  const fallback = new Set(packages);
  cjs._resolveFilename = function resolveWithFallback(request, parent, isMain, options) {
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
        fallback.has(packageNameOf(request))
      ) {
        try {
          return serviceRequire.resolve(request);
        } catch {}
      }
      throw error;
    }
  };
}
