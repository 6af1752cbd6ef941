#!/usr/bin/env bash
# Run meshlint over every folder listed in sources.tsv; one JSON report per folder and world.
# Usage: CORPUS=/work/corpus MESHLINT=/path/to/meshlint OUT=/work/corpus/out scripts/precision/run.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
CORPUS=${CORPUS:-/work/corpus}
MESHLINT=${MESHLINT:-/work/main/target/release/meshlint}
OUT=${OUT:-$CORPUS/out}
mkdir -p "$OUT"
tail -n +2 "$here/sources.tsv" | while IFS=$'\t' read -r repo commit folder world; do
  dir="$CORPUS/${repo/\//+}"
  out="$OUT/${repo/\//+}__${folder//\//_}__$world.json"
  flag=(); [ "$world" = closed ] && flag=(--closed-world)
  (cd "$dir" && "$MESHLINT" check "$folder" --format json --fail-on never --allow-empty --no-config "${flag[@]}" >"$out" 2>"$out.stderr")
  rc=$?
  [ $rc -ne 0 ] && echo "exit $rc: $repo $folder $world (see $out.stderr)" >&2
done
echo "reports in $OUT"
