// The SQLite file of DATABASE_URL: its path, and opening it with an error that says what to do
// when the file or its folder cannot be written (the first thing a new Docker volume gets wrong).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';

export function sqliteFilePath(url: string): string {
  return url.replace(/^file:/, '').replace(/\?.*$/, '');
}

const ACCESS_CODES =
  /^(SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_PERM|SQLITE_AUTH|EACCES|EPERM|EROFS|ENOTDIR|EISDIR|EEXIST)/;

/**
 * For an error that comes from the file's permissions or place, the same error with the path and
 * the way out in its (one-line) message; otherwise undefined.
 */
export function explainAccessError(file: string, error: unknown): Error | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !ACCESS_CODES.test(code)) return undefined;
  const path = file === ':memory:' ? file : resolve(file);
  return Object.assign(
    new Error(
      `cannot open the SQLite database ${path} (DATABASE_URL): ${String(message)}; the user the service ` +
        'runs as must be able to write the file and its folder (in the Docker image: mount /data ' +
        'writable by uid 1000, user node)',
      { cause: error },
    ),
    { code },
  );
}

/** Opens (and with `createFolder`, first makes the folder of) the database file. */
export function openSqliteFile(
  file: string,
  options: Sqlite.Options & { createFolder?: boolean } = {},
): Sqlite.Database {
  const { createFolder, ...driverOptions } = options;
  try {
    if (createFolder && file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    return new Sqlite(file, driverOptions);
  } catch (error) {
    throw explainAccessError(file, error) ?? error;
  }
}
