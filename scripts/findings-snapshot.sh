#!/usr/bin/env bash
# Every finding meshlint reports on the repository's fixtures, the scenarios, the precision
# corpus (scripts/precision/sources.tsv, extracted under $CORPUS) and a generated benchmark
# corpus, one line each (rule, severity, file:line:col, message), sorted. Run it before and
# after a change to the rules or the model and diff the two files: a rewrite that should
# not change behaviour shows no difference.
# Usage: MESHLINT=target/debug/meshlint scripts/findings-snapshot.sh OUT.txt
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
MESHLINT=$(realpath "${MESHLINT:-$root/target/debug/meshlint}")
CORPUS=${CORPUS:-/work/corpus}
out=$(realpath -m "$1")
tmp=$(mktemp -d)
flatten() { # label, json file
  python3 - "$1" "$2" <<'PY'
import json,sys
label,path=sys.argv[1],sys.argv[2]
try: data=json.load(open(path))
except Exception as e: print(f"{label}\tUNREADABLE {e}"); sys.exit()
items=data.get('findings',data) if isinstance(data,dict) else data
for f in items:
    loc=f.get('location') or {}
    rel=';'.join(f"{(r.get('location') or {}).get('file','')}:{(r.get('location') or {}).get('line','')} {r.get('message','')}" for r in f.get('related',[]) or [])
    print(f"{label}\t{f.get('rule')}\t{f.get('severity')}\t{loc.get('file')}:{loc.get('line')}:{loc.get('column')}\t{f.get('message')}\t{rel}")
PY
}
run() { # label, dir, args...
  local label=$1 dir=$2; shift 2
  (cd "$dir" && "$MESHLINT" check "$@" --format json --fail-on never --allow-empty --no-config >"$tmp/r.json" 2>/dev/null)
  flatten "$label" "$tmp/r.json"
}
{
  for d in "$root"/testdata/rules/*/ "$root"/testdata/scenarios/*/; do
    run "$(basename "$d")" "$d" .
    run "$(basename "$d")+closed" "$d" . --closed-world
  done
  if [ -d "$CORPUS" ]; then
    tail -n +2 "$root/scripts/precision/sources.tsv" | while IFS=$'\t' read -r repo commit folder world; do
      flag=(); [ "$world" = closed ] && flag=(--closed-world)
      [ -d "$CORPUS/${repo/\//+}" ] && run "$repo:$folder:$world" "$CORPUS/${repo/\//+}" "$folder" "${flag[@]}"
    done
  fi
  bench=$tmp/bench
  if [ -x "$(dirname "$MESHLINT")/meshlint-corpus" ]; then
    "$(dirname "$MESHLINT")/meshlint-corpus" --namespaces 60 --out "$bench" >/dev/null 2>&1
    run bench "$bench" .
  fi
} | sort >"$out"
rm -rf "$tmp"
wc -l <"$out"
