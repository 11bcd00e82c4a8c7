#!/usr/bin/env bash
# Benchmark for the claim scrubber (issue 6): recall and precision per rule on synthetic claims
# with labelled errors, scrubbing throughput (clean claims only as the reference, then all claims),
# and the time to import a large file in CMS's NCCI layouts. Release build; one thread.
#
#   bash bench/scrubber.sh                 # seed 20261204, 2,000 clean claims, 150 per rule
#   SEED=7 CLEAN=5000 PER_RULE=300 bash bench/scrubber.sh
#   PTP=ccipra-v324r0-f1.txt MUE=MCR_MUE_PractitionerServices_Eff_10-01-2026.csv bash bench/scrubber.sh
#       (also times the real quarterly files, when you have them)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SEED=${SEED:-20261204}
CLEAN=${CLEAN:-2000}
PER_RULE=${PER_RULE:-150}
PASSES=${PASSES:-30}

swift build -c release --product rcm-scrub-bench
BIN=.build/release/rcm-scrub-bench

echo "== machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== recall, precision and throughput"
"$BIN" --seed "$SEED" --clean "$CLEAN" --per-rule "$PER_RULE" --passes "$PASSES" --mistakes 20

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo
echo "== importer: synthetic files in the CMS layouts"
python3 bench/scrubber/synthetic_ncci.py "$TMP/ptp.txt" "$TMP/mue.csv"
ls -l "$TMP/ptp.txt" "$TMP/mue.csv" | awk '{print $5, $9}'
/usr/bin/time -f "wall %e s, max RSS %M KiB" "$BIN" --load-only --ptp "$TMP/ptp.txt" --mue "$TMP/mue.csv"
echo "(for comparison, no files loaded:)"
/usr/bin/time -f "wall %e s, max RSS %M KiB" "$BIN" --load-only --clean 0 --per-rule 0

if [[ -n ${PTP:-} && -n ${MUE:-} ]]; then
    echo
    echo "== importer: $PTP, $MUE"
    /usr/bin/time -f "wall %e s, max RSS %M KiB" "$BIN" --load-only --ptp "$PTP" --mue "$MUE"
fi
