#!/usr/bin/env bash
# Cold start to first interactive screen, release build: process start → the UI has rendered
# its first screen and called `ui_ready`. Prints each run and the median. Needs Xvfb.
#   bash scripts/bench-cold-start.sh [RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh --tests
RUNS="${1:-7}"
npm run --silent build
cargo build --release -p review-station --quiet
BIN="$CARGO_TARGET_DIR/release/review-station"
times=()
for i in $(seq 1 "$RUNS"); do
  data=$(mktemp -d)
  out=$(REVIEW_STATION_EXIT_AFTER_READY=1 REVIEW_STATION_LOG=warn timeout 60 \
    xvfb-run -a -s "-screen 0 1440x900x24" "$BIN" --data-dir "$data" 2>&1 | grep -o 'ready_ms=[0-9.]*' || true)
  rm -rf "$data"
  ms="${out#ready_ms=}"
  [[ -n "$ms" ]] || { echo "run $i: the app did not report ready" >&2; exit 1; }
  echo "run $i: ${ms} ms (fresh data directory)"
  times+=("$ms")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "cold start to first interactive screen: median %.0f ms over %d runs (min %.0f, max %.0f)\n", a[int((NR+1)/2)], NR, a[1], a[NR]}'
