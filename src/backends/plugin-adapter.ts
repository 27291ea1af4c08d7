// Constructs a plugin's backend class so that the instance is a BaseBackend, also when the class
// does not extend it: such a class gets the base behaviour for every method it leaves out.
import { BaseBackend } from './base.js';

/** Something `new` can be applied to. */
export type PluginConstructor = new (options: Record<string, unknown>) => unknown;

/** True for classes and ES5 constructor functions; false for arrows, methods, async functions. */
export function isConstructor(value: unknown): value is PluginConstructor {
  if (typeof value !== 'function') return false;
  try {
    // Constructs nothing of value's: Reflect.construct only checks that newTarget is a constructor.
    Reflect.construct(Object, [], value);
    return true;
  } catch {
    return false;
  }
}

const CONSTANTS = {
  SECURITY_CODE_VALID: BaseBackend.SECURITY_CODE_VALID,
  SECURITY_CODE_INVALID: BaseBackend.SECURITY_CODE_INVALID,
  SECURITY_CODE_EXPIRED: BaseBackend.SECURITY_CODE_EXPIRED,
  SECURITY_CODE_VERIFIED: BaseBackend.SECURITY_CODE_VERIFIED,
  SESSION_TOKEN_INVALID: BaseBackend.SESSION_TOKEN_INVALID,
  SECURITY_CODE_TOO_MANY_ATTEMPTS: BaseBackend.SECURITY_CODE_TOO_MANY_ATTEMPTS,
};

/**
 * A prototype with the class's own methods (its whole chain, nearest last) over
 * BaseBackend.prototype. The methods are the class's own function objects, and the instance is
 * built by the class's own constructor, so private fields and `this` work as written; whatever
 * the class leaves out (validateSecurityCode included) is the base's, which keeps the service's
 * "uses base validation" check true exactly when the class does not define its own.
 */
function mixedPrototype(PluginClass: PluginConstructor): object {
  const prototype = Object.create(BaseBackend.prototype) as Record<PropertyKey, unknown>;
  for (const [key, value] of Object.entries(CONSTANTS)) {
    Object.defineProperty(prototype, key, { value, enumerable: false });
  }
  const chain: object[] = [];
  for (
    let link: object | null = PluginClass.prototype as object;
    link && link !== Object.prototype;
    link = Object.getPrototypeOf(link)
  ) {
    chain.unshift(link);
  }
  for (const link of chain) {
    for (const key of Reflect.ownKeys(link)) {
      if (key === 'constructor') continue;
      Object.defineProperty(prototype, key, Object.getOwnPropertyDescriptor(link, key)!);
    }
  }
  Object.defineProperty(prototype, 'constructor', {
    value: PluginClass,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return prototype;
}

/** Lower-cased option keys, as BaseBackend's constructor gives them. */
function lowerCased(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([key, value]) => [key.toLowerCase(), value]));
}

/**
 * `new PluginClass(options)`, as a BaseBackend. Returns undefined when the constructor returned
 * some other object instead of its instance (nothing to give the base behaviour to).
 */
export function constructBackend(
  PluginClass: PluginConstructor,
  options: Record<string, unknown>,
): BaseBackend | undefined {
  if (PluginClass.prototype instanceof BaseBackend) {
    const backend = new PluginClass(options);
    return backend instanceof BaseBackend ? backend : undefined;
  }
  // newTarget only supplies the prototype; the class's constructor runs as written.
  const newTarget = function BackendOfPlugin() {} as unknown as PluginConstructor;
  newTarget.prototype = mixedPrototype(PluginClass);
  const backend = Reflect.construct(PluginClass, [options], newTarget) as unknown;
  if (!(backend instanceof BaseBackend)) return undefined;
  if (!Object.hasOwn(backend, 'options')) {
    Object.defineProperty(backend, 'options', { value: lowerCased(options ?? {}), enumerable: true });
  }
  return backend;
}
