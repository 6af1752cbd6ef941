#!/usr/bin/env bash
# Issue 17's targets for two builds in one run, alternating: wall, CPU (user + system)
# and peak RSS of `meshlint check` on gen-mesh 2,000 (three times) and 20,000 namespaces
# and one namespace of 3,200 workloads, PyYAML's C loader parsing gen-mesh 2,000 only,
# and the small file's costs (perf stat task-clock and callgrind instructions, when
# installed).
#
#   BEFORE=/path/to/old/meshlint AFTER=target/release/meshlint scripts/bench-issue17.sh
#
# Environment: as bench-lib.sh (BENCH_OUT holds the corpora, generated once with
# meshlint-corpus, which is built unless BENCH_NO_BUILD=1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
: "${BEFORE:?set BEFORE to the meshlint binary to compare against}"
AFTER=${AFTER:-$MESHLINT}
build_binaries 0
declare -A dir
for case in gen-mesh:2000 gen-mesh:20000 one-namespace:3200 1; do
  ensure_corpus "$case"
  dir[$case]=$CORPUS_PATH
done

measure() { # binary, path
  local t
  t=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$1" check --format json --no-config "$2" >/dev/null 2>&1 || true
  tail -n 1 "$t" | awk '{printf "wall %.2f s  cpu %.2f s  rss %.0f MB\n", $1, $2 + $3, $4 / 1024}'
  rm -f "$t"
}
machine_state
for case in gen-mesh:2000 gen-mesh:2000 gen-mesh:2000 one-namespace:3200 gen-mesh:20000; do
  echo "$case before: $(measure "$BEFORE" "${dir[$case]}")"
  echo "$case after:  $(measure "$AFTER" "${dir[$case]}")"
done
if python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null; then
  echo "PyYAML CSafeLoader, parse only, gen-mesh:2000:"
  /usr/bin/time -f "wall %e s  cpu %U+%S s" python3 -c "
import glob, yaml
for f in glob.glob('${dir[gen-mesh:2000]}/**/*.yaml', recursive=True):
    with open(f) as fh:
        list(yaml.load_all(fh, Loader=yaml.CSafeLoader))
"
else
  echo "PyYAML with its C loader is not installed: no PyYAML ratio"
fi
for which in BEFORE AFTER; do
  echo "small file, $which: $(small_file_costs "${!which}" check --format json --no-config "${dir[1]}")"
done
machine_state
