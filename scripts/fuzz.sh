#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz + libFuzzer on the nightly compiler) and prints, per
# target, the executions, the coverage reached and the crashes found.
#
#   scripts/fuzz.sh smoke         each target over its committed seeds plus 15 s of new inputs
#                                 (the test command runs this)
#   scripts/fuzz.sh long [RUNS]   RUNS executions per target (10,000,000 by default): the
#                                 recorded run of BENCHMARKS.md, "Fuzzing"
#
# New inputs go to a scratch corpus under $CARGO_TARGET_DIR (seeds in fuzz/corpus/ stay as
# committed); a crash is kept as fuzz/artifacts/<target>/crash-* and fails the run. Each crash
# found is fixed and its input added under fuzz/corpus/<target>/ as a regression seed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-smoke}"
RUNS="${2:-10000000}"
# FUZZ_TARGETS="wire router" runs only those
read -r -a TARGETS <<<"${FUZZ_TARGETS:-intake pdf normalizers extractors wire configs stores router}"
# FUZZ_SANITIZER=none builds without AddressSanitizer: for targets whose code is all safe Rust or
# a library built without it (the extractors, PDFium), it changes what is caught little and
# runs several times faster
SANITIZER=(--sanitizer "${FUZZ_SANITIZER:-address}")
# FUZZ_TRACE_COMPARES=0 builds without comparison tracing (use its own FUZZ_TARGET_DIR: the
# flags differ). For the extractors, whose comparisons are mostly inside the `regex` crate's
# engines (fuzzed by that crate's own OSS-Fuzz targets), the tracing is most of each execution
if [[ "${FUZZ_TRACE_COMPARES:-1}" == 0 ]]; then
  SANITIZER+=(--no-trace-compares)
fi
# the fuzz workspace builds with its own flags: not with the main build's clippy wrapper
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/review-station/fuzz-target}"
cd "$ROOT/fuzz"
if [[ -n "${FUZZ_TARGETS:-}" ]]; then
  for target in "${TARGETS[@]}"; do
    cargo +nightly fuzz build -O --debug-assertions "${SANITIZER[@]}" "$target" >&2
  done
else
  cargo +nightly fuzz build -O --debug-assertions "${SANITIZER[@]}" >&2
fi
# The longest input each target is given: what the parser meets in use, with room to spare.
# libFuzzer's own default (4 KB, or the longest seed) lets the normalizers' inputs grow to
# whole pages, where each execution costs many times a row's and finds nothing a row would not.
max_len() {
  case "$1" in
    normalizers) echo 1024 ;; # one OCR row or cell: a few hundred characters at most
    *) echo 0 ;;              # 0: libFuzzer's default
  esac
}
# FUZZ_FORK=N runs each target as N libFuzzer processes sharing one corpus (libFuzzer's fork
# mode), for a machine with cores to spare: RUNS then counts their executions together
FORK=()
if [[ "${FUZZ_FORK:-1}" -gt 1 ]]; then
  FORK=(-fork="$FUZZ_FORK")
fi
case "$MODE" in
  smoke) LIMIT=(-max_total_time=15) ;;
  long) LIMIT=(-runs="$RUNS") ;;
  *) echo "usage: scripts/fuzz.sh smoke | long [RUNS]" >&2; exit 2 ;;
esac
status=0
echo "fuzz: sanitizer ${FUZZ_SANITIZER:-address}, comparison tracing ${FUZZ_TRACE_COMPARES:-1}, ${FUZZ_FORK:-1} process(es) per target, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, $MODE run"
printf '%-12s %14s %8s %8s %8s %s\n' target executions seconds cov features crashes
for target in "${TARGETS[@]}"; do
  scratch="$CARGO_TARGET_DIR/corpus/$target"
  mkdir -p "$scratch" "$ROOT/fuzz/artifacts/$target"
  log="$CARGO_TARGET_DIR/$target.log"
  started=$SECONDS
  set +e
  cargo +nightly fuzz run -O --debug-assertions "${SANITIZER[@]}" "$target" "$scratch" "$ROOT/fuzz/corpus/$target" -- \
    "${LIMIT[@]}" "${FORK[@]}" -max_len="$(max_len "$target")" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [[ ${#FORK[@]} -gt 0 ]]; then
    # fork mode: the parent's progress lines (`#N: cov: …`) count every child's executions
    runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
  fi
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  # crash-*, timeout-*, oom-*, leak-*: findings. slow-unit-* only says an input took over 10 s,
  # which a starved CPU also causes: listed, rerun by hand, not counted
  crashes=$(find "$ROOT/fuzz/artifacts/$target" -type f ! -name 'slow-unit-*' | wc -l)
  find "$ROOT/fuzz/artifacts/$target" -type f -name 'slow-unit-*' -printf "fuzz: $target: slow input %p (rerun it alone to tell a starved CPU from a slow path)\n" >&2
  printf '%-12s %14s %8s %8s %8s %s\n' "$target" "${runs:-?}" "$((SECONDS - started))" "${cov:-?}" "${ft:-?}" "$crashes"
  if [[ $rc -ne 0 || $crashes -ne 0 ]]; then
    echo "fuzz: $target failed (exit $rc); its log: $log" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
exit $status
