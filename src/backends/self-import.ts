// Makes `import … from 'phone-verify'` (ESM) and `require('phone-verify')` (CommonJS) work in a
// plugin file anywhere on disk, with nothing installed beside it, and give the very BaseBackend
// class this running service uses. Resolving the specifier to a file would risk a second copy of
// the class (and a second copy breaks instanceof and the base-validation check), so both faces
// return the object the service publishes on globalThis instead.
import { createRequire, Module, register } from 'node:module';
import * as publicApi from '../public.js';

/** Where the running service publishes the 'phone-verify' exports for plugins. */
const PUBLISHED = Symbol.for('phone-verify.public');

/** The URL the ESM face resolves 'phone-verify' to: not a file, so no copy can be loaded. */
const SELF_URL = 'phone-verify:public';

// The service's own package.json: plugins may fall back to the packages the service depends on.
const serviceManifest = new URL('../../package.json', import.meta.url);
const serviceRequire = createRequire(serviceManifest);

/** The ESM loader hooks. They run on the loader thread, so they get data, never objects. */
const HOOKS_SOURCE = `
let selfSource = '';
let fallbackParentURL = '';
let servicePackages = new Set();
export function initialize(data) {
  const names = data.exportNames.map((name) => 'export const ' + name + ' = api.' + name + ';');
  selfSource = [
    'const api = globalThis[Symbol.for(' + JSON.stringify(data.symbolKey) + ')];',
    'if (!api) throw new Error("phone-verify: \\'phone-verify\\' is only importable by backends the service loads");',
    ...names,
    'export default api;',
  ].join('\\n');
  fallbackParentURL = data.fallbackParentURL;
  servicePackages = new Set(data.servicePackages);
}
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'phone-verify') return { url: ${JSON.stringify(SELF_URL)}, format: 'module', shortCircuit: true };
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    // A plugin's own node_modules wins; a package the service itself depends on is the fallback.
    // (Some loaders drop the error code, never the message.)
    const notFound = error?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(error?.message);
    if (notFound && servicePackages.has(packageName(specifier))) {
      try {
        return await nextResolve(specifier, { ...context, parentURL: fallbackParentURL });
      } catch {}
    }
    throw error;
  }
}
export async function load(url, context, nextLoad) {
  if (url === ${JSON.stringify(SELF_URL)}) return { format: 'module', source: selfSource, shortCircuit: true };
  return nextLoad(url, context);
}
`;

interface CjsLoader {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function servicePackages(): string[] {
  try {
    const manifest = serviceRequire('./package.json') as { dependencies?: Record<string, string> };
    return Object.keys(manifest.dependencies ?? {});
  } catch {
    return []; // an install without its package.json: plugins bring their own packages
  }
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
  register(`data:text/javascript,${encodeURIComponent(HOOKS_SOURCE)}`, {
    data: {
      symbolKey: PUBLISHED.description,
      exportNames: Object.keys(publicApi).filter((name) => name !== 'default'),
      fallbackParentURL: serviceManifest.href,
      servicePackages: packages,
    },
  });

  const cjs = Module as unknown as CjsLoader;
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
