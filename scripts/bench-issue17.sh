#!/usr/bin/env bash
# Issue 17's targets for two builds in one run, alternating: wall, CPU (user + system)
# and peak RSS of `meshlint check` on gen-mesh 2,000 (three times) and 20,000 namespaces
# and one namespace of 3,200 workloads, PyYAML's C loader parsing gen-mesh 2,000 only,
# and the small file's task-clock (perf stat, when installed).
#
#   BEFORE=/path/to/old/meshlint AFTER=target/release/meshlint scripts/bench-issue17.sh
#
# Environment: BENCH_OUT (default bench-out/) holds the corpora, generated once with
# target/release/meshlint-corpus (built if missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${BEFORE:?set BEFORE to the meshlint binary to compare against}"
AFTER=${AFTER:-target/release/meshlint}
OUT=${BENCH_OUT:-bench-out}
CORPUS_BIN=${CARGO_TARGET_DIR:-target}/release/meshlint-corpus
[ -x "$CORPUS_BIN" ] || cargo build -q --release -p meshlint-corpus
mkdir -p "$OUT"
gen() { # dir, args...
  local dir=$OUT/$1; shift
  [ -d "$dir" ] || "$CORPUS_BIN" "$@" --out "$dir" >/dev/null
}
gen i17-gm2000 --shape gen-mesh --namespaces 2000
gen i17-gm20000 --shape gen-mesh --namespaces 20000
gen i17-one3200 --shape one-namespace --namespaces 3200
gen i17-small --namespaces 1

measure() { # binary, dir
  local t
  t=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$1" check --format json --no-config "$2" >/dev/null 2>&1 || true
  tail -n 1 "$t" | awk '{printf "wall %.2f s  cpu %.2f s  rss %.0f MB\n", $1, $2 + $3, $4 / 1024}'
  rm -f "$t"
}
date -u
uptime
for case in gm2000 gm2000 gm2000 one3200 gm20000; do
  echo "$case before: $(measure "$BEFORE" "$OUT/i17-$case")"
  echo "$case after:  $(measure "$AFTER" "$OUT/i17-$case")"
done
if python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null; then
  echo "PyYAML CSafeLoader, parse only, gm2000:"
  /usr/bin/time -f "wall %e s  cpu %U+%S s" python3 -c "
import glob, yaml
for f in glob.glob('$OUT/i17-gm2000/**/*.yaml', recursive=True):
    with open(f) as fh:
        list(yaml.load_all(fh, Loader=yaml.CSafeLoader))
"
else
  echo "PyYAML with its C loader is not installed: no PyYAML ratio"
fi
if command -v perf >/dev/null; then
  for which in BEFORE AFTER; do
    echo "small file, $which:"
    perf stat -r 30 -e task-clock "${!which}" check --format json --no-config "$OUT/i17-small" 2>&1 >/dev/null |
      grep -E "task-clock|elapsed" || true
  done
fi
uptime
