#!/usr/bin/env bash
# npm postinstall: build wardwatch's libpcap capture addon (src/capture/live/addon: capture.c, binding.gyp) from
# source with the node-gyp bundled with npm, against the running node's own headers (<prefix>/include/node, shipped
# by Debian's nodejs and by nodejs.org tarballs), so nothing is downloaded; npm_config_nodedir, when set, wins.
#
# Live capture is optional (files, replay and the embedded demo run without libpcap): this script NEVER fails the
# install. When something is missing it says what in one line (the build's own output is in
# .cache/capture-addon-build.log) and exits 0; live capture then fails with one clear error (WW_CAPTURE_BINDING).
# `npm run rebuild:capture` runs it again.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf '[wardwatch postinstall] %s\n' "$*" >&2; }
# Everything the build prints (node-gyp, the compiler) goes to this log, never to the terminal: a user without
# libpcap-dev reads one line saying what is missing and where the details are, not a page of gyp ERR.
mkdir -p .cache
log=$PWD/.cache/capture-addon-build.log
: >"$log"
unavailable() {
  printf '%s\n' "live capture unavailable: $*" >>"$log"
  say "live capture is unavailable: $* (files, replay and the demo work); to enable it: install libpcap-dev, python3, make and g++, then run 'npm run rebuild:capture' (build log: $log)"
  exit 0
}

addon=src/capture/live/addon
[ -f "$addon/capture.c" ] || unavailable "$addon/capture.c not found"
# Check what the build needs first: one line instead of a compiler's error cascade.
for tool in python3 make cc c++; do command -v "$tool" >/dev/null 2>&1 || unavailable "'$tool' not found"; done
echo '#include <pcap/pcap.h>' | cc -E -x c - >/dev/null 2>>"$log" || unavailable "libpcap headers (pcap/pcap.h, package libpcap-dev) not found"

gyp=${npm_config_node_gyp:-}
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  npm_dir=$(dirname "$(readlink -f "$(command -v npm)")")/..
  gyp=$npm_dir/node_modules/node-gyp/bin/node-gyp.js
fi
[ -f "$gyp" ] || unavailable "node-gyp (bundled with npm) not found"

args=(rebuild)
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
  if [ -f "$prefix/include/node/node_api.h" ] && [ -f "$prefix/include/node/common.gypi" ]; then args+=("--nodedir=$prefix"); fi
fi

start=$(date +%s)
if ! (cd "$addon" && node "$gyp" "${args[@]}") >>"$log" 2>&1; then
  rm -rf "$addon/build"
  why=$(grep -m1 -E 'fatal error|error:' "$log" | sed -E 's/^[^ ]*: *//' | cut -c1-120)
  unavailable "building the capture addon failed${why:+ ($why)}"
fi
version=$(mktemp)
trap 'rm -f "$version"' EXIT
if ! node -e 'const a = require(process.argv[1]); if (typeof a.open !== "function") process.exit(1); console.error(a.libVersion())' "$PWD/$addon/build/Release/wardwatch_capture.node" 2>"$version"; then
  cat "$version" >>"$log"
  rm -rf "$addon/build"
  unavailable "the capture addon was built but does not load"
fi
say "libpcap capture addon built in $(($(date +%s) - start)) s ($(cat "$version"))"
