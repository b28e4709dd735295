#!/usr/bin/env bash
# npm postinstall: patch the optional libpcap binding `cap` (patches/cap+*.patch, applied by patch-package: adds
# stats() = pcap_stats, passes the pcap header timestamp and original length to 'packet' listeners, takes the
# snaplen, and fixes a crash after a failed open) and build its addon once with the node-gyp bundled with npm.
#
# cap's own install script is denied in package.json (allowScripts: "cap": false) so the addon is built once, here,
# from the patched source. Headers: the running node's own (<prefix>/include/node, shipped by Debian's nodejs and
# by nodejs.org tarballs), so nothing is downloaded; npm_config_nodedir, when set, wins.
#
# cap is optional (the embedded demo runs without libpcap): this script NEVER fails the install. When anything is
# missing it says what and exits 0; live capture then fails with one clear error (WW_CAPTURE_BINDING).
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf '[wardwatch postinstall] %s\n' "$*" >&2; }
unavailable() {
  say "$*"
  say "live capture is unavailable (files, replay and the demo work); to fix: install libpcap-dev, python3, make, g++ and run 'npm run rebuild:cap'"
  exit 0
}

[ -f node_modules/cap/package.json ] || unavailable "the optional libpcap binding 'cap' is not installed"
[ -x node_modules/.bin/patch-package ] || unavailable "patch-package is not installed (npm --omit=dev?): cap was not patched nor built"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! node_modules/.bin/patch-package --error-on-fail >"$log" 2>&1; then
  cat "$log" >&2
  unavailable "patch-package could not apply patches/ to cap"
fi

gyp=${npm_config_node_gyp:-}
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  npm_dir=$(dirname "$(readlink -f "$(command -v npm)")")/..
  gyp=$npm_dir/node_modules/node-gyp/bin/node-gyp.js
fi
[ -f "$gyp" ] || unavailable "node-gyp (bundled with npm) not found"

args=(rebuild)
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
  if [ -f "$prefix/include/node/node.h" ] && [ -f "$prefix/include/node/common.gypi" ]; then args+=("--nodedir=$prefix"); fi
fi

start=$(date +%s)
if ! (cd node_modules/cap && node "$gyp" "${args[@]}") >"$log" 2>&1; then
  grep -E 'error|Error|ERR' "$log" | head -20 >&2
  rm -rf node_modules/cap/build
  unavailable "building cap's addon failed (node-gyp ${args[*]})"
fi
if ! node -e 'const { Cap } = require("cap"); if (typeof Cap.prototype.stats !== "function") process.exit(1)' 2>"$log"; then
  cat "$log" >&2
  unavailable "cap's addon was built but does not load with the patch (no stats())"
fi
say "cap patched and built in $(($(date +%s) - start)) s (pcap_stats, pcap header timestamps)"
