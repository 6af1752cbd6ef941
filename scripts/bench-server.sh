#!/usr/bin/env bash
# Edit-to-diagnostics latency of `meshlint server` (issue 19) on a generated workspace
# of about 2,000 files: builds the release binaries, generates the corpus once, runs
# crates/meshlint-cli/benches/server_latency.rs and prints its Markdown tables.
#
#   scripts/bench-server.sh
#
# Environment:
#   BENCH_NAMESPACES  namespaces of the generated workspace (default 440 ≈ 2,000 files)
#   BENCH_OUT         output directory (default bench-out/, gitignored)
#   MESHLINT_BENCH_EDITS  edits per case (default 20)
#   MESHLINT_BENCH_BIN    another meshlint binary to serve (an older build, to compare)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
NAMESPACES=${BENCH_NAMESPACES:-440}
OUT=${BENCH_OUT:-bench-out}
CORPUS="$OUT/corpus-server-$NAMESPACES"
if [ ! -d "$CORPUS" ]; then
  cargo run -q --release -p meshlint-corpus -- --namespaces "$NAMESPACES" --out "$CORPUS"
fi
MESHLINT_BENCH_CORPUS="$(realpath "$CORPUS")" cargo bench -q -p meshlint-cli --bench server_latency
