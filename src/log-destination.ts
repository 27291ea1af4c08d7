// Where the service's log lines go: standard output, as one JSON object per line (LOG_FORMAT=json,
// for log collectors), or rendered for a person at a terminal (LOG_FORMAT=pretty) by pino-pretty,
// an optional dependency loaded only then. Pretty lines are rendered and written synchronously, so
// the last lines before an exit are never lost.
import { createRequire } from 'node:module';
import pino, { type DestinationStream } from 'pino';
import { type Config, ConfigError } from './config.js';

type PrettyFactory = (options: Record<string, unknown>) => (line: string) => string;

/** The fields a person does not need on every line (they are the same on every line). */
const PRETTY_IGNORE = 'pid,hostname';

function loadPrettyFactory(): PrettyFactory {
  try {
    return (createRequire(import.meta.url)('pino-pretty') as { prettyFactory: PrettyFactory }).prettyFactory;
  } catch {
    throw new ConfigError(
      'LOG_FORMAT: pretty needs the optional package pino-pretty, which is not installed (npm install pino-pretty); or keep LOG_FORMAT=json and pipe the output through `npx pino-pretty`',
    );
  }
}

export function logDestination(config: Pick<Config, 'logFormat'>): DestinationStream {
  // As pino's own default: asynchronous writes to fd 1, flushed at exit.
  if (config.logFormat === 'json') return pino.destination({ dest: 1, sync: false });
  const render = loadPrettyFactory()({
    ignore: PRETTY_IGNORE,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    singleLine: true,
  });
  const out = pino.destination({ dest: 1, sync: true });
  return { write: (line: string) => out.write(render(line)) };
}
