#!/usr/bin/env bash
# The main job on the embedded default (no Kafka, no InfluxDB): replay the shipped demo capture through the
# pipeline in one process and print what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --node
node dist/src/cli/main.js run captures/demo.pcap "$@"
