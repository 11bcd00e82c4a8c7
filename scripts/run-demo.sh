#!/usr/bin/env bash
# Runs the platform with the demo organization on SQLite (./data); extra arguments go to `rcm serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
swift build -c release --product rcm
exec .build/release/rcm serve --demo "$@"
