#!/usr/bin/env bash
# Copies the console's pinned third-party browser files and their licences from node_modules into webroot/vendor/,
# and writes webroot/vendor/manifest.json (package versions from package-lock.json, SHA-256 of each copied file).
# VendorFilesTest checks the committed copies against the lock and the manifest, so they cannot drift silently.
#
#   cd console && npm ci && bash vendor.sh      # then commit webroot/vendor/
set -euo pipefail
cd "$(dirname "$0")"
out=../webroot/vendor
nm=node_modules

[ -d "$nm" ] || { echo "node_modules is missing: run 'npm ci' in console/ first" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/licenses"

copy() { # package, file inside the package, name under webroot/vendor
  cp "$nm/$1/$2" "$out/$3"
}

# the files the console loads
copy chart.js dist/chart.umd.min.js chart.umd.min.js
copy sockjs-client dist/sockjs.min.js sockjs.min.js
copy @vertx/eventbus-bridge-client.js vertx-eventbus.js vertx-eventbus.js

# licences: each package, and what its dist file bundles (Chart.js: @kurkle/color; sockjs-client: debug, ms,
# inherits, url-parse, querystringify, requires-port). The event-bus client ships no licence file: it is Apache-2.0
# (its package.json and file header), so the Apache-2.0 text is copied from console/licenses/.
copy chart.js LICENSE.md licenses/chart.js.LICENSE.md
copy @kurkle/color LICENSE.md licenses/kurkle-color.LICENSE.md
copy sockjs-client LICENSE licenses/sockjs-client.LICENSE
for p in debug inherits url-parse querystringify requires-port; do
  copy "$p" LICENSE "licenses/$p.LICENSE"
done
copy ms license.md licenses/ms.LICENSE.md
cp licenses/Apache-2.0.txt "$out/licenses/vertx-eventbus-bridge-client.js.LICENSE.txt"

node - "$out" <<'JS'
const fs = require('fs');
const crypto = require('crypto');
const path = require('path');
const out = process.argv[2];
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const sha256 = f => crypto.createHash('sha256').update(fs.readFileSync(path.join(out, f))).digest('hex');
const pkg = (name, files) => {
  const entry = lock.packages['node_modules/' + name];
  const installed = JSON.parse(fs.readFileSync(path.join('node_modules', name, 'package.json'), 'utf8')).version;
  if (installed !== entry.version) {
    throw new Error(`${name}: node_modules has ${installed} but the lock says ${entry.version}: run 'npm ci'`);
  }
  return { version: entry.version, integrity: entry.integrity,
           files: Object.fromEntries(files.map(f => [f, sha256(f)])) };
};
const manifest = {
  comment: 'Written by console/vendor.sh from console/package-lock.json; checked by VendorFilesTest. Do not edit.',
  packages: {
    'chart.js': pkg('chart.js', ['chart.umd.min.js', 'licenses/chart.js.LICENSE.md']),
    '@kurkle/color': pkg('@kurkle/color', ['licenses/kurkle-color.LICENSE.md']),
    // the licences of what sockjs.min.js bundles are listed with it
    'sockjs-client': pkg('sockjs-client', ['sockjs.min.js', 'licenses/sockjs-client.LICENSE',
      'licenses/debug.LICENSE', 'licenses/ms.LICENSE.md', 'licenses/inherits.LICENSE', 'licenses/url-parse.LICENSE',
      'licenses/querystringify.LICENSE', 'licenses/requires-port.LICENSE']),
    '@vertx/eventbus-bridge-client.js': pkg('@vertx/eventbus-bridge-client.js',
      ['vertx-eventbus.js', 'licenses/vertx-eventbus-bridge-client.js.LICENSE.txt']),
  },
};
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
JS
echo "webroot/vendor/ updated:"
(cd "$out" && find . -type f | sort)
