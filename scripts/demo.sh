#!/usr/bin/env bash
# The main job on the embedded default (no Kafka, no InfluxDB): replay the shipped demo capture through the
# pipeline in one process, print the alerts as a table, and leave this run's alerts.jsonl and report.html (the
# forensic report: open it in any browser, it needs no network) in the repository folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --node
rm -f alerts.jsonl   # the alerts file is appended to; start fresh so it holds this run's alerts only
# The shipped demo models, named: models a user trained (out/models) do not change the demo.
node dist/src/cli/main.js run captures/demo.pcap --models-dir models --alerts alerts.jsonl --report report.html "$@"
