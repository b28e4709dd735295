#!/usr/bin/env bash
# wardwatch set-up on Debian/Ubuntu: system packages (as root, only what is missing), node modules (npm ci when
# package-lock.json or the capture addon changed since the last install; its postinstall builds the libpcap capture
# addon, see scripts/install-capture.sh), and the TypeScript build.
#   scripts/setup.sh          everything the test suite needs
#   scripts/setup.sh --node   only node modules + build (what the embedded demo needs)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

if [ "${1:-}" != "--node" ]; then
  need=()
  command -v influxd   >/dev/null 2>&1 || need+=(influxdb)
  command -v tshark    >/dev/null 2>&1 || need+=(tshark)
  command -v tcpdump   >/dev/null 2>&1 || need+=(tcpdump)
  command -v tcpreplay >/dev/null 2>&1 || need+=(tcpreplay)
  command -v ip        >/dev/null 2>&1 || need+=(iproute2)
  command -v java      >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  command -v mvn       >/dev/null 2>&1 || need+=(maven)
  command -v openssl   >/dev/null 2>&1 || need+=(openssl)
  command -v chromium  >/dev/null 2>&1 || need+=(chromium)   # the HTML report test (playwright-core drives /usr/bin/chromium)
  [ -f /usr/include/pcap/pcap.h ] || need+=(libpcap-dev)
  # To build the libpcap capture addon in npm's postinstall (scripts/install-capture.sh).
  command -v python3   >/dev/null 2>&1 || need+=(python3)
  command -v make      >/dev/null 2>&1 || need+=(make)
  command -v g++       >/dev/null 2>&1 || need+=(g++)   # node-gyp links with the C++ driver
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      say "missing system packages: ${need[*]}"
      say "run: sudo apt-get install ${need[*]}   (or run this script as root)"
      exit 1
    fi
    say "apt-get install ${need[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then say "Node.js >= 20.19 is required (found $(node --version 2>/dev/null || echo none))"; exit 1; fi

# Re-install when the lock, the capture addon or the postinstall that builds it changed.
lock_sum=$(cat package-lock.json src/capture/live/addon/capture.c src/capture/live/addon/binding.gyp scripts/install-capture.sh | sha256sum | cut -d" " -f1)
if [ ! -f node_modules/.wardwatch-lock ] || [ "$(cat node_modules/.wardwatch-lock)" != "$lock_sum" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.wardwatch-lock
fi
say "build"
npm run -s build
