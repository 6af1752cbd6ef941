#!/usr/bin/env bash
# External yardsticks for meshlint's speed (issue 7), measured side by side in
# one run, as medians and as ratios (yardstick time / meshlint time):
#
#   PyYAML CSafeLoader merely parsing every file of the 2,000-namespace corpus
#   yamllint on the 2,000-namespace corpus and on the one small file
#   checkov -d <200-namespace corpus> --framework kubernetes --quiet
#   meshlint check --format json on the same inputs (full analysis)
#
#   scripts/yardsticks.sh                    # everything (about 20 minutes on 2 cores)
#   scripts/yardsticks.sh --yardsticks-only  # the yardsticks without meshlint
#
# Environment:
#   BENCH_SEED, BENCH_OUT, BENCH_NO_BUILD=1   as in bench-process.sh
#   YARDSTICK_RUNS_FAST   runs for the sub-second commands (default 10)
#   YARDSTICK_RUNS_SLOW   runs for the commands that take seconds to minutes (default 3)
#
# Installs pyyaml, yamllint and checkov from PyPI into $BENCH_OUT/venv on first
# use. Prints a Markdown table and writes it to $BENCH_OUT/yardsticks.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
VENV=$OUT/venv
RUNS_FAST=${YARDSTICK_RUNS_FAST:-10}
RUNS_SLOW=${YARDSTICK_RUNS_SLOW:-3}

WITH_MESHLINT=1
for arg in "$@"; do
  case $arg in
    --yardsticks-only) WITH_MESHLINT=0 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "yardsticks: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# --- tools ------------------------------------------------------------------
if ! command -v hyperfine >/dev/null; then
  log "installing hyperfine..."
  apt_install hyperfine || log "warning: hyperfine unavailable; falling back to a timing loop"
fi
mkdir -p "$OUT"
if ! "$VENV/bin/python" -c 'import yaml, yamllint, checkov' 2>/dev/null; then
  log "installing pyyaml, yamllint, checkov into ${VENV#"$ROOT"/} (takes a minute or two)..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check pyyaml yamllint checkov
fi
if ! "$VENV/bin/python" -c 'import sys, yaml; sys.exit(0 if yaml.__with_libyaml__ else 1)'; then
  log "error: this PyYAML has no LibYAML bindings (yaml.CSafeLoader); cannot measure the C loader"
  exit 1
fi

# --- build and corpora --------------------------------------------------------
build_binaries "$WITH_MESHLINT"

ensure_corpus 1; SMALL=$CORPUS_PATH
ensure_corpus 200; C200=$CORPUS_PATH
ensure_corpus 2000; C2000=$CORPUS_PATH

# The parse-only yardstick: every *.yaml file, every document, C loader.
cat >"$OUT/pyyaml_parse.py" <<'EOF'
import pathlib
import sys

import yaml

docs = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    with open(path, "rb") as f:
        for _ in yaml.load_all(f, Loader=yaml.CSafeLoader):
            docs += 1
print(docs)
EOF
# yamllint's default rules, relaxed the way GitOps repositories with Kubernetes
# manifests commonly relax them, so the corpus lints clean and the time is the
# lint, not printing 80,000 indentation complaints.
cat >"$OUT/yamllint.yaml" <<'EOF'
extends: default
rules:
  document-start: disable
  indentation:
    indent-sequences: consistent
  line-length:
    max: 120
EOF

# --- measuring --------------------------------------------------------------
# sane_run CMD...: one run; exit 0 or 1 is fine (lint findings), anything else aborts.
sane_run() {
  local rc=0 err; err=$(mktemp)
  "$@" >/dev/null 2>"$err" || rc=$?
  if ((rc > 1)); then
    log "error: '$*' exited $rc:"; head -20 "$err" >&2; rm -f "$err"; exit 1
  fi
  rm -f "$err"
}

# fmt_ms MS: "12.3 ms" below a second, "4.56 s" above.
fmt_ms() { awk -v m="$1" 'BEGIN { if (m >= 1000) printf "%.2f s", m / 1000; else printf "%.1f ms", m }'; }

measure() { # NAME RUNS WARMUP CMD...
  local name=$1 runs=$2 warmup=$3; shift 3
  sane_run "$@"
  log "timing $name ($runs runs)..."
  median_ms "$runs" "$warmup" "$@"
}

PY=$VENV/bin/python
YAMLLINT=("$VENV/bin/yamllint" -c "$OUT/yamllint.yaml")

declare -A ML
if [[ $WITH_MESHLINT == 1 ]]; then
  ML[small]=$(measure "meshlint, one small file" "$RUNS_FAST" 2 "$MESHLINT" check --format json "$SMALL")
  ML[200]=$(measure "meshlint, 200 namespaces" "$RUNS_FAST" 1 "$MESHLINT" check --format json "$C200")
  ML[2000]=$(measure "meshlint, 2,000 namespaces" "$RUNS_FAST" 1 "$MESHLINT" check --format json "$C2000")
fi
Y_PARSE=$(measure "PyYAML CSafeLoader, 2,000 namespaces" "$RUNS_SLOW" 1 "$PY" "$OUT/pyyaml_parse.py" "$C2000")
Y_LINT_SMALL=$(measure "yamllint, one small file" "$RUNS_FAST" 1 "${YAMLLINT[@]}" "$SMALL")
Y_LINT_2000=$(measure "yamllint, 2,000 namespaces" "$RUNS_SLOW" 0 "${YAMLLINT[@]}" "$C2000")
Y_CHECKOV=$(measure "checkov, 200 namespaces" "$RUNS_SLOW" 0 \
  "$VENV/bin/checkov" -d "$C200" --framework kubernetes --quiet)

row() { # YARDSTICK INPUT Y_MS ML_KEY
  local ml=${ML[$4]:-}
  if [[ -n $ml ]]; then
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$(fmt_ms "$3")" "$(fmt_ms "$ml")" \
      "$(awk -v y="$3" -v m="$ml" 'BEGIN { printf "%.1f×", y / m }')"
  else
    printf '| %s | %s | %s | n/a | n/a |\n' "$1" "$2" "$(fmt_ms "$3")"
  fi
}

versions=$("$PY" - <<'EOF'
from importlib.metadata import version
print(", ".join(f"{p} {version(p)}" for p in ("PyYAML", "yamllint", "checkov")))
EOF
)
{
  echo
  echo "Yardsticks, seed $SEED, $(nproc) cores, $("$PY" --version), $versions;"
  echo "median of $RUNS_FAST runs (sub-second commands) or $RUNS_SLOW runs (slow ones)."
  echo "Ratio = yardstick median / meshlint median on the same input (higher: meshlint faster)."
  echo
  echo "| yardstick | input | yardstick median | meshlint median | ratio |"
  echo "|---|---|---:|---:|---:|"
  row "PyYAML CSafeLoader, parse only" "2,000 namespaces" "$Y_PARSE" 2000
  row "yamllint" "2,000 namespaces" "$Y_LINT_2000" 2000
  row "yamllint" "one small file" "$Y_LINT_SMALL" small
  row "checkov --framework kubernetes" "200 namespaces" "$Y_CHECKOV" 200
} | tee "$OUT/yardsticks.md"
