#!/usr/bin/env bash
# Whole-process benchmark of meshlint (issue 7): wall time and peak memory of
# `meshlint check --format json PATH`, start to exit, on generated corpora.
#
#   scripts/bench-process.sh                  # build, generate, measure, print a table
#   scripts/bench-process.sh --corpus-only    # build and generate only (no meshlint runs)
#
# Environment:
#   BENCH_CASES   cases to run: N (the realistic corpus of N namespaces; 1 = one small
#                 file) or SHAPE:N (meshlint-corpus --shape: gen-mesh = the shape of
#                 gen_mesh.py, one-namespace = N workloads in one namespace, wildcards)
#                 (default "1 100 2000 20000 gen-mesh:2000 gen-mesh:20000
#                 one-namespace:800 wildcards:2000 wildcards:20000")
#   BENCH_SEED    corpus seed (default 42)
#   BENCH_OUT     output directory (default bench-out/, gitignored)
#   BENCH_RUNS    timed runs per case, overriding the defaults below
#   BENCH_NO_BUILD=1   use the binaries already in target/release
#
# Prints the machine's state (date, cores, load average), a Markdown table (case,
# resources, bytes, median wall ms, mean CPU ms, peak RSS MB), the 20,000 / 2,000 wall
# and CPU ratios of every family that has both, for the one small file its task-clock
# (perf stat) and instruction count (callgrind) when perf and valgrind are installed,
# and, when python3 has PyYAML with its C loader, the 2,000 cases' "PyYAML parse-only
# time / meshlint time" ratios (wall and CPU, measured in the same run); writes it all
# to $BENCH_OUT/bench-process.md. meshlint's exit code is ignored
# (findings give 1); any exit code other than 0 or 1 aborts the benchmark.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CASES=${BENCH_CASES:-"1 100 2000 20000 gen-mesh:2000 gen-mesh:20000 one-namespace:800 wildcards:2000 wildcards:20000"}

CORPUS_ONLY=0
for arg in "$@"; do
  case $arg in
    --corpus-only) CORPUS_ONLY=1 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-process: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# --- tools ------------------------------------------------------------------
if [[ $CORPUS_ONLY == 0 ]]; then
  if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time (apt package 'time') for peak RSS..."
    apt_install time || log "warning: /usr/bin/time unavailable; peak RSS will read n/a"
  fi
  if ! command -v hyperfine >/dev/null; then
    log "installing hyperfine..."
    apt_install hyperfine || log "warning: hyperfine unavailable; falling back to a timing loop"
  fi
fi

# --- build ------------------------------------------------------------------
if [[ $CORPUS_ONLY == 1 ]]; then build_binaries 0; else build_binaries 1; fi

# --- measuring --------------------------------------------------------------
# runs_for N: timed runs per case (fewer for the big ones).
runs_for() {
  if [[ -n ${BENCH_RUNS:-} ]]; then echo "$BENCH_RUNS"; return; fi
  case ${1#*:} in
    1) echo 30 ;;
    100) echo 20 ;;
    20000) echo 5 ;;
    *) echo 10 ;;
  esac
}

# peak_rss_mb RUNS CMD...: largest "Maximum resident set size" over RUNS runs, in MB.
peak_rss_mb() {
  local runs=$1; shift
  if [[ ! -x /usr/bin/time ]]; then echo "n/a"; return; fi
  local i kb max=0 f; f=$(mktemp)
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -v -o "$f" "$@" >/dev/null 2>&1 || true
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$f")
    ((kb > max)) && max=$kb
  done
  rm -f "$f"
  awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }'
}

# check_runs CMD...: one run; exit 0 or 1 is fine, anything else is a failure.
check_runs() {
  local rc=0 out; out=$(mktemp)
  "$@" >"$out" 2>"$out.err" || rc=$?
  if ((rc > 1)); then
    log "error: '$*' exited $rc:"; head -20 "$out.err" >&2; rm -f "$out" "$out.err"; exit 1
  fi
  [[ -s $out ]] || log "warning: '$*' printed nothing on stdout"
  rm -f "$out" "$out.err"
}

# group 1234567 -> 1,234,567
group() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

label() {
  case $1 in
    1) echo "one small file" ;;
    one-namespace:*) echo "one namespace, $(group "${1#*:}") workloads" ;;
    *:*) echo "${1%%:*}, $(group "${1#*:}") namespaces" ;;
    *) echo "$(group "$1") namespaces" ;;
  esac
}

# PyYAML's C loader parsing every document of a corpus (the speed yardstick), when
# python3 has it.
PYYAML=0
if python3 -c 'import sys, yaml; sys.exit(0 if yaml.__with_libyaml__ else 1)' 2>/dev/null; then
  PYYAML=1
  cat >"$OUT/pyyaml_parse.py" <<'EOF'
import pathlib, sys, yaml
docs = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    with open(path, "rb") as f:
        for _ in yaml.load_all(f, Loader=yaml.CSafeLoader):
            docs += 1
print(docs)
EOF
fi

# --- main -------------------------------------------------------------------
rows=()
declare -A median cpu pyyaml pyyaml_cpu
small_costs=
started_state=$(machine_state)
for n in $CASES; do
  ensure_corpus "$n"
  if [[ $CORPUS_ONLY == 1 ]]; then
    rows+=("| $(label "$n") | $(group "$CORPUS_RESOURCES") | $(group "$CORPUS_BYTES") | - | - | - |")
    continue
  fi
  cmd=("$MESHLINT" check --format json "$CORPUS_PATH")
  check_runs "${cmd[@]}"
  runs=$(runs_for "$n")
  log "timing $(label "$n") ($runs runs)..."
  read -r ms cpu_ms < <(time_ms "$runs" 1 "${cmd[@]}")
  median[$n]=$ms
  cpu[$n]=$cpu_ms
  if ((${n#*:} > 2000)); then rss_runs=1; else rss_runs=3; fi
  if [[ $PYYAML == 1 && ${n#*:} == 2000 ]]; then
    log "timing PyYAML parse-only on $(label "$n") (3 runs)..."
    read -r pyyaml[$n] pyyaml_cpu[$n] < <(time_ms 3 0 python3 "$OUT/pyyaml_parse.py" "$CORPUS_PATH")
  fi
  if [[ $n == 1 ]]; then
    log "measuring the one small file's task-clock and instructions..."
    small_costs=$(small_file_costs "${cmd[@]}")
  fi
  rss=$(peak_rss_mb "$rss_runs" "${cmd[@]}")
  rows+=("| $(label "$n") | $(group "$CORPUS_RESOURCES") | $(group "$CORPUS_BYTES") | $ms | $cpu_ms | $rss |")
done

{
  echo
  if [[ $CORPUS_ONLY == 1 ]]; then
    echo "Corpora (seed $SEED) in ${OUT#"$ROOT"/}; meshlint not run (--corpus-only)."
  else
    echo "meshlint check --format json, whole process, seed $SEED;" \
      "$(command -v hyperfine >/dev/null && hyperfine --version || echo 'timing loop'), median wall and mean CPU (user + system) of runs."
    echo "Started $started_state; ended $(machine_state)."
  fi
  echo
  echo "| case | resources | bytes | median wall ms | mean CPU ms | peak RSS MB |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  [[ -n $small_costs ]] && echo "one small file: $small_costs (target: at most 5 ms)"
  for family in "" gen-mesh: wildcards:; do
    small=${median[${family}2000]:-} large=${median[${family}20000]:-}
    if [[ -n $small && -n $large ]]; then
      awk -v a="$small" -v b="$large" -v ca="${cpu[${family}2000]}" -v cb="${cpu[${family}20000]}" \
        -v f="${family%:}" 'BEGIN {
        printf "%s 20,000 / 2,000 namespaces: wall ratio %.2f, CPU ratio %.2f (linear would be 10; target <= 12)\n",
          (f == "" ? "corpus" : f), b / a, cb / ca }'
    fi
  done
  for n in "${!pyyaml[@]}"; do
    awk -v p="${pyyaml[$n]}" -v m="${median[$n]}" -v pc="${pyyaml_cpu[$n]}" -v mc="${cpu[$n]}" \
      -v l="$(label "$n")" 'BEGIN {
      printf "%s: PyYAML CSafeLoader parse-only / meshlint check: wall %.0f / %.0f ms = %.1fx (target >= 8), CPU %.0f / %.0f ms = %.1fx\n",
        l, p, m, p / m, pc, mc, pc / mc }'
  done
} | tee "$OUT/bench-process.md"
