#!/usr/bin/env bash
# X12 parsing benchmark (issue 4): tokenizer throughput, full parse (loops + envelope validation),
# peak memory, and pyx12 4.0.0 (x12valid) on a slice of the same file, all in one invocation.
#   X12_BENCH_MB     size of the generated 835 (default 100)
#   X12_SLICE_MB     size of the slice given to pyx12 (default 2; pyx12 is slow)
#   X12_RUNS         runs of each of our measurements (default 3; every run is printed)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MB=${X12_BENCH_MB:-100}
SLICE_MB=${X12_SLICE_MB:-2}
RUNS=${X12_RUNS:-3}
OUT=$ROOT/bench/results/x12
mkdir -p "$OUT"

echo "== generating the 835 files (bench/x12/generate_835.py, seed 835) =="
[[ -s $OUT/big.835 && $(stat -c %s "$OUT/big.835") -ge $((MB * 1000000)) && -f $OUT/big.$MB ]] ||
    { rm -f "$OUT"/big.*; python3 bench/x12/generate_835.py --megabytes "$MB" "$OUT/big.835" && touch "$OUT/big.$MB"; }
python3 bench/x12/generate_835.py --megabytes "$SLICE_MB" "$OUT/slice.835"

echo "== building rcm (release) =="
swift build -c release --product rcm 2>&1 | tail -1
RCM=$(swift build -c release --product rcm --show-bin-path)/rcm

echo "== outside parser: pyx12 =="
eval "$(bash scripts/x12-validators.sh)"

BYTES=$(stat -c %s "$OUT/big.835")
SLICE_BYTES=$(stat -c %s "$OUT/slice.835")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "file: $OUT/big.835, $BYTES bytes; slice: $SLICE_BYTES bytes"

# rss_of CMD...: runs CMD under /usr/bin/time -v, prints its output and "peak RSS KB".
rss_of() {
    /usr/bin/time -v "$@" 2>"$OUT/time.txt" || true
    grep -h "Maximum resident set size" "$OUT/time.txt" | awk '{print "peak RSS " $6 " KB"}'
}

echo "== rcm: tokenize only (streaming, 1 MiB reads, no strings) =="
for _ in $(seq "$RUNS"); do rss_of "$RCM" x12 bench-tokenize "$OUT/big.835"; done | tee "$OUT/tokenize.txt"
echo "== rcm: full parse (segments as strings, loop trees, envelope validation; one transaction set in memory at a time) =="
for _ in $(seq "$RUNS"); do rss_of "$RCM" x12 bench-parse "$OUT/big.835"; done | tee "$OUT/parse.txt"
echo "== rcm: full parse of the slice (its peak RSS is the baseline the big file's is compared with) =="
rss_of "$RCM" x12 bench-parse "$OUT/slice.835" | tee "$OUT/parse-slice.txt"

echo "== pyx12 4.0.0 x12valid (parse + validate against its 835 5010 map) on the slice =="
PYX12_BIN=$(dirname "$PYX12_PYTHON")
start=$(date +%s.%N)
/usr/bin/time -f "pyx12 peak RSS %M KB" "$PYX12_BIN/x12valid" --quiet "$OUT/slice.835" >"$OUT/pyx12.log" 2>&1 || true
end=$(date +%s.%N)
grep -E "^$OUT/slice.835|peak RSS" "$OUT/pyx12.log" | tail -2

echo "== summary =="
python3 - "$start" "$end" "$SLICE_BYTES" "$BYTES" "$OUT" <<'PY'
import re, statistics, sys
start, end, size, big, out = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def rates(name):
    text = open(f"{out}/{name}").read()
    return [float(x) for x in re.findall(r"= ([0-9.]+) MB/s", text)], [int(x) for x in re.findall(r"peak RSS (\d+) KB", text)]
tok, tok_rss = rates("tokenize.txt")
parse, parse_rss = rates("parse.txt")
slice_rate, slice_rss = rates("parse-slice.txt")
py = size / 1e6 / (end - start)
print(f"tokenize: median {statistics.median(tok):.0f} MB/s (runs: {', '.join(f'{r:.0f}' for r in tok)}), peak RSS {max(tok_rss) // 1024} MiB")
print(f"full parse: median {statistics.median(parse):.1f} MB/s (runs: {', '.join(f'{r:.1f}' for r in parse)}), peak RSS {max(parse_rss) // 1024} MiB for a {big / 1e6:.0f} MB file")
print(f"full parse of the {size / 1e6:.1f} MB slice: {slice_rate[0]:.1f} MB/s, peak RSS {slice_rss[0] // 1024} MiB")
print(f"pyx12 x12valid on the {size / 1e6:.1f} MB slice: {end - start:.2f} s = {py:.2f} MB/s (Python start-up included); "
      f"scaled to {big / 1e6:.0f} MB: about {big / 1e6 / py:.0f} s (an estimate from the slice, not a run)")
print(f"ratio, rcm full parse (big file, median) / pyx12 (slice): {statistics.median(parse) / py:.0f}x")
print(f"ratio on the same slice: {slice_rate[0] / py:.0f}x")
PY
