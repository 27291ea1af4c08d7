// Maps PHONE_VERIFICATION_BACKEND to a backend instance: built-in names first, then (for
// "module.ClassName" or a bare module name) a custom backend file in PLUGINS_DIR.
import { ConfigError } from '../config.js';
import type { BaseBackend } from './base.js';
import { ConsoleBackend } from './console.js';
import {
  describePluginsDir,
  loadPluginBackend,
  PLUGIN_EXTENSIONS,
  parsePluginReference,
} from './plugin-loader.js';

export type BackendFactory = (options: Record<string, unknown>) => BaseBackend | Promise<BaseBackend>;

// The provider SDKs are imported only when their backend is chosen: together they hold tens of MB
// of memory that a service sending through the other one (or a plugin) never uses.
const twilio = () => import('./twilio.js');
const vonage = () => import('./vonage.js');

/** Built-in backends by name. Provider backends register here too. */
export const builtInBackends: Record<string, BackendFactory> = {
  console: (options) => new ConsoleBackend(options),
  twilio: async (options) => new (await twilio()).TwilioBackend(options, 'twilio'),
  'twilio-sandbox': async (options) => new (await twilio()).TwilioSandboxBackend(options, 'twilio-sandbox'),
  vonage: async (options) => new (await vonage()).VonageBackend(options, 'vonage'),
  'vonage-sandbox': async (options) => new (await vonage()).VonageSandboxBackend(options, 'vonage-sandbox'),
  // Vonage was Nexmo: django-phone-verify's names keep working.
  nexmo: async (options) => new (await vonage()).VonageBackend(options, 'nexmo'),
  'nexmo-sandbox': async (options) => new (await vonage()).VonageSandboxBackend(options, 'nexmo-sandbox'),
};

export interface BackendContext {
  /** PLUGINS_DIR: where custom backend files are looked up */
  pluginsDir: string;
}

/** Builds the configured backend; throws ConfigError naming the variable for an unknown name. */
export async function createBackend(
  name: string,
  options: Record<string, unknown>,
  context: BackendContext,
): Promise<BaseBackend> {
  const factory = builtInBackends[name.toLowerCase()];
  if (factory) return await factory(options);
  const backend = await loadPluginBackend(name, options, context.pluginsDir);
  if (backend) return backend;
  const { module } = parsePluginReference(name);
  const files = PLUGIN_EXTENSIONS.map((ext) => `${module}${ext}`).join(', ');
  throw new ConfigError(
    `PHONE_VERIFICATION_BACKEND: unknown backend ${JSON.stringify(name)}: not built in (${Object.keys(builtInBackends).join(', ')}) and no ${files} in ${describePluginsDir(context.pluginsDir)}`,
  );
}
