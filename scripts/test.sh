#!/usr/bin/env bash
# Runs every check: formatting, layering, lints, Rust tests (incl. the IPC-bindings drift
# check), the UI type check and unit tests, and the end-to-end tests of the real app.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh --tests
echo "setup: ${SECONDS} s"
# Each step prints its own time and the running total, so a slow step shows in every CI log.
step() {
  local started=$SECONDS
  echo; echo "== $1"; shift
  "$@"
  echo "-- $((SECONDS - started)) s (total ${SECONDS} s)"
}

step "cargo fmt --check" cargo fmt --all --check
step "core crates do not depend on tauri" bash scripts/check-layering.sh
step "UI bundle (vite build)" npm run --silent build
step "TypeScript type check" npm run --silent typecheck
step "UI unit tests (vitest)" npm test --silent
step "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
# Examples and benches are type-checked by clippy above; building them again here only links
# binaries nobody runs (there are no doc tests).
step "Rust tests (incl. IPC bindings drift)" cargo test --workspace --lib --bins --tests --quiet
step "build the app" cargo build -p review-station --quiet
export REVIEW_STATION_BIN="$CARGO_TARGET_DIR/debug/review-station"
# a session bus of its own: the app keeps one process per data directory over D-Bus
step "end-to-end tests (tauri-driver + WebKitWebDriver under Xvfb)" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test --test-concurrency=1 tests/e2e/
