// The service's configuration, read from the environment: the table of settings is
// config/settings.ts; this module is what the rest of the service imports.
export { type DatabaseKind, databaseKindOf, NUMBER_TYPES } from './config/checks.js';
export { loadDotEnv } from './config/dotenv.js';
export { parseWindow } from './config/durations.js';
export { ConfigError, isSecretName } from './config/errors.js';
export {
  type Config,
  ConfigSchema,
  ENV_VARIABLE_PREFIXES,
  ENV_VARIABLES,
  type FraudGuardSetting,
  type LogFormat,
  loadConfig,
  type RateLimitSetting,
  type RedisFailurePolicy,
} from './config/load.js';
export { DEFAULT_DENIED_NUMBER_TYPES, DEFAULT_MESSAGE, PURGE_OFF } from './config/settings.js';
