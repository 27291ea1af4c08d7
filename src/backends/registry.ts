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

export type BackendFactory = (
  options: Record<string, unknown>,
  context?: BackendContext,
) => BaseBackend | Promise<BaseBackend>;

// The provider SDKs are imported only when their backend is chosen: together they hold tens of MB
// of memory that a service sending through the other one (or a plugin) never uses.
const twilio = () => import('./twilio.js');
const vonage = () => import('./vonage.js');

/** The delivery-receipt routes of the service, under PUBLIC_URL. */
export const CALLBACK_PATHS = { twilio: '/v1/callbacks/twilio', vonage: '/v1/callbacks/vonage' } as const;

/** A Twilio backend that asks for status callbacks when PUBLIC_URL is set. */
async function twilioBackend(
  sandbox: boolean,
  options: Record<string, unknown>,
  name: string,
  context: BackendContext | undefined,
): Promise<BaseBackend> {
  const { TwilioBackend, TwilioSandboxBackend } = await twilio();
  const backend = sandbox ? new TwilioSandboxBackend(options, name) : new TwilioBackend(options, name);
  if (context?.publicUrl) backend.requestStatusCallbacks(`${context.publicUrl}${CALLBACK_PATHS.twilio}`);
  return backend;
}

/** A Vonage backend that asks for delivery receipts when PUBLIC_URL is set. */
async function vonageBackend(
  sandbox: boolean,
  options: Record<string, unknown>,
  name: string,
  context: BackendContext | undefined,
): Promise<BaseBackend> {
  const { VonageBackend, VonageSandboxBackend } = await vonage();
  const backend = sandbox ? new VonageSandboxBackend(options, name) : new VonageBackend(options, name);
  if (context?.publicUrl) backend.requestDeliveryReceipts(`${context.publicUrl}${CALLBACK_PATHS.vonage}`);
  return backend;
}

/** Built-in backends by name. Provider backends register here too. */
export const builtInBackends: Record<string, BackendFactory> = {
  console: (options) => new ConsoleBackend(options),
  twilio: (options, context) => twilioBackend(false, options, 'twilio', context),
  'twilio-sandbox': (options, context) => twilioBackend(true, options, 'twilio-sandbox', context),
  vonage: (options, context) => vonageBackend(false, options, 'vonage', context),
  'vonage-sandbox': (options, context) => vonageBackend(true, options, 'vonage-sandbox', context),
  // Vonage was Nexmo: django-phone-verify's names keep working.
  nexmo: (options, context) => vonageBackend(false, options, 'nexmo', context),
  'nexmo-sandbox': (options, context) => vonageBackend(true, options, 'nexmo-sandbox', context),
  webhook: async (options) => new (await import('./webhook.js')).WebhookBackend(options, 'webhook'),
};

export interface BackendContext {
  /** PLUGINS_DIR: where custom backend files are looked up */
  pluginsDir: string;
  /** PUBLIC_URL: the service's external origin, for the providers' delivery receipts */
  publicUrl?: string;
}

/** Builds the configured backend; throws ConfigError naming the variable for an unknown name. */
export async function createBackend(
  name: string,
  options: Record<string, unknown>,
  context: BackendContext,
): Promise<BaseBackend> {
  const factory = builtInBackends[name.toLowerCase()];
  if (factory) return await factory(options, context);
  const backend = await loadPluginBackend(name, options, context.pluginsDir);
  if (backend) return backend;
  const { module } = parsePluginReference(name);
  const files = PLUGIN_EXTENSIONS.map((ext) => `${module}${ext}`).join(', ');
  throw new ConfigError(
    `PHONE_VERIFICATION_BACKEND: unknown backend ${JSON.stringify(name)}: not built in (${Object.keys(builtInBackends).join(', ')}) and no ${files} in ${describePluginsDir(context.pluginsDir)}`,
  );
}
