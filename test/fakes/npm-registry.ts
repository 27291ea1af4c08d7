// A local npm registry standing in for registry.npmjs.org in tests: it serves the packages given
// (folders of an installed node_modules, packed on the fly) so the real npm CLI can install them
// offline, and answers 404 for every other name, as the registry does for a package that does not
// exist. Each package has the one version it has on disk, which is also its "latest".
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';

const run = promisify(execFile);

export interface NpmRegistry {
  /** http://127.0.0.1:PORT/, for npm_config_registry */
  url: string;
  /** the names npm asked for, in order (tarballs included) */
  requested: string[];
}

/** `tar` of an installed package folder as npm publishes it: everything under package/. */
async function pack(folder: string, into: string): Promise<Buffer> {
  const file = join(into, `${basename(folder)}-${Date.now()}.tgz`);
  await run('tar', [
    '-c',
    '--use-compress-program=gzip -1',
    '-f',
    file,
    '-C',
    dirname(folder),
    `--transform=s,^${basename(folder)},package,`,
    basename(folder),
  ]);
  return readFileSync(file);
}

/**
 * Serves each folder (e.g. node_modules/typescript) as its package. `scratch` holds the packed
 * tarballs. Closed when the test ends.
 */
export async function startNpmRegistry(t: Test, folders: string[], scratch: string): Promise<NpmRegistry> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const packuments = new Map<string, unknown>();
  const tarballs = new Map<string, Buffer>();
  for (const folder of folders) {
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    const tarball = await pack(folder, scratch);
    const tarballPath = `-/${manifest.name.replace('/', '-')}-${manifest.version}.tgz`;
    tarballs.set(`/${tarballPath}`, tarball);
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    packuments.set(manifest.name, {
      name: manifest.name,
      'dist-tags': { latest: manifest.version },
      versions: { [manifest.version]: { ...manifest, dist: { tarball: `${url}${tarballPath}`, integrity } } },
    });
  }

  const requested: string[] = [];
  server.on('request', (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requested.push(path);
    const tarball = tarballs.get(path);
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
      return;
    }
    const packument = packuments.get(path.slice(1));
    if (packument) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
  });
  return { url, requested };
}
