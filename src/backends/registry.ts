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
import { TwilioBackend, TwilioSandboxBackend } from './twilio.js';
import { VonageBackend, VonageSandboxBackend } from './vonage.js';

export type BackendFactory = (options: Record<string, unknown>) => BaseBackend;

/** Built-in backends by name. Provider backends register here too. */
export const builtInBackends: Record<string, BackendFactory> = {
  console: (options) => new ConsoleBackend(options),
  twilio: (options) => new TwilioBackend(options, 'twilio'),
  'twilio-sandbox': (options) => new TwilioSandboxBackend(options, 'twilio-sandbox'),
  vonage: (options) => new VonageBackend(options, 'vonage'),
  'vonage-sandbox': (options) => new VonageSandboxBackend(options, 'vonage-sandbox'),
  // Vonage was Nexmo: the seed's names keep working.
  nexmo: (options) => new VonageBackend(options, 'nexmo'),
  'nexmo-sandbox': (options) => new VonageSandboxBackend(options, 'nexmo-sandbox'),
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
  if (factory) return factory(options);
  const backend = await loadPluginBackend(name, options, context.pluginsDir);
  if (backend) return backend;
  const { module } = parsePluginReference(name);
  const files = PLUGIN_EXTENSIONS.map((ext) => `${module}${ext}`).join(', ');
  throw new ConfigError(
    `PHONE_VERIFICATION_BACKEND: unknown backend ${JSON.stringify(name)}: not built in (${Object.keys(builtInBackends).join(', ')}) and no ${files} in ${describePluginsDir(context.pluginsDir)}`,
  );
}
