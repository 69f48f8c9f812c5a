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
step "crate layering (tauri-free core, plain-data protocol)" bash scripts/check-layering.sh
# the installers take their version from package.json, the app's About from the Cargo workspace
step "one version (Cargo workspace = package.json)" node -e '
  const fs = require("fs");
  const cargo = fs.readFileSync("Cargo.toml", "utf8").match(/\[workspace\.package\][^[]*?\nversion = "([^"]+)"/)[1];
  const npm = JSON.parse(fs.readFileSync("package.json", "utf8")).version;
  if (cargo !== npm) { console.error(`Cargo.toml says ${cargo}, package.json ${npm}`); process.exit(1); }'
step "UI bundle (vite build)" npm run --silent build
step "TypeScript type check" npm run --silent typecheck
step "UI unit tests (vitest)" npm test --silent
# Clippy and the tests share one build. `cargo clippy` is `cargo check` with clippy-driver as the
# workspace's rustc wrapper: it lints our crates, but first type-checks every dependency in a
# check-only build the tests cannot use (minutes of a cold run: BENCHMARKS.md, "The test
# command from a cold cache"). Here the same driver, with
# the same `-D warnings`, wraps the real build instead: our crates are linted as they compile,
# every dependency is compiled once, and the tests and the app reuse it all. The environment
# stays set for every cargo call below, or cargo would rebuild our crates without the wrapper.
export RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver)"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
step "cargo clippy --all-targets -D warnings, building the tests" \
  cargo test --workspace --all-targets --no-run --quiet
# Not --all-targets: the gate bench has no harness and would run as a benchmark; examples and
# benches were built and linted above (there are no doc tests).
# a session bus of their own: the sync tests start gnome-keyring on it (a real Secret Service)
step "Rust tests (incl. IPC bindings drift)" \
  dbus-run-session -- cargo test --workspace --lib --bins --tests --quiet
# the router's scenarios once more with its ledger on PostgreSQL (Debian's, started by each
# scenario on a loopback port and stopped by PID): every test that touches storage, both engines
step "router tests with the ledger on PostgreSQL" \
  env ROUTER_TEST_LEDGER=postgres cargo test --workspace --test router --quiet
step "the OpenAI Python SDK against the router (review-router + fake-llm processes)" \
  "$ROUTER_SDK_PYTHON" tests/router/openai_sdk.py "$CARGO_TARGET_DIR"
# every parser that sees outside bytes, under libFuzzer: the seeds, then 15 s of new inputs each
step "fuzz targets (cargo-fuzz: seeds + 15 s each)" bash scripts/fuzz.sh smoke
# The app, the router, the fake LLM and the crash-trial programs, under their plain names for
# the steps below. `--workspace` with examples among the targets resolves features exactly as
# the test build above did, so this only links what that build compiled; a `-p` build resolves
# them for its package alone and compiled a second copy of most dependencies (about 12 minutes
# of a cold run). Same for the PostgreSQL step's `--workspace --test router`.
step "build the app, the router, the fake LLM and the crash trials" \
  cargo build --workspace --bins --example crash_trials --example sync_chaos --quiet
export REVIEW_STATION_BIN="$CARGO_TARGET_DIR/debug/review-station"
# the e2e sync test runs the real router in front of the fake LLM, each as its own process
export REVIEW_ROUTER_BIN="$CARGO_TARGET_DIR/debug/review-router" FAKE_LLM_BIN="$CARGO_TARGET_DIR/debug/fake-llm"
# a session bus of its own: the app keeps one process per data directory over D-Bus, and the
# sync test starts gnome-keyring on it
step "end-to-end tests (tauri-driver + WebKitWebDriver under Xvfb)" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test --test-concurrency=1 tests/e2e/
# SIGKILL at random instants of an import (the real app), a review shift, a visit, report
# exports and sync, the data checked after each kill: 3 kills each here, 100 in the recorded run
# the trials run the app, the router and the sync_chaos program beside them (built above: the
# test build leaves examples only under hashed names)
step "crash trials (crash_trials: 3 SIGKILLs per scenario)" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  "$CARGO_TARGET_DIR/debug/examples/crash_trials" --kills 3 --router-kills 1 --seed 7
# the installers (a debug build: the same bundling, minutes faster), then each installed on a
# throwaway root without the build tree and used: a photo, a PDF, OCR, About. Last: bundling
# rebuilds the app binary the steps above used.
# Signed with a test key kept on this machine and built in as the trusted one (release builds
# trust the release key of tauri.conf.json instead).
TEST_KEY="$HOME/.cache/review-station/update-test-key"
step "installers (scripts/package.sh --debug: .deb and AppImage)" bash scripts/package.sh --debug --test-key "$TEST_KEY"
BUNDLE="$CARGO_TARGET_DIR/debug/bundle"
VERSION="$(node -p 'require("./package.json").version')"
step "install test (the .deb with dpkg, then the AppImage, on a root without the build tree)" \
  bash tests/package/install_test.sh "$BUNDLE/deb/Review Station_${VERSION}_amd64.deb" \
  "$BUNDLE/appimage/Review Station_${VERSION}_amd64.AppImage"
# the update path: this version's AppImage kept aside (the bundler empties its folder), a newer
# one built from the same code, the router offering it on loopback with good and bad signatures
UPDATE_WORK="$(mktemp -d /tmp/rs-update-packages-XXXXXX)"
cp "$BUNDLE/appimage/Review Station_${VERSION}_amd64.AppImage"* "$UPDATE_WORK/"
NEWER="$(node -p 'const [a, b, c] = require("./package.json").version.split("."); `${a}.${b}.${Number(c) + 1}`')"
step "a newer AppImage to update to (scripts/package.sh --version $NEWER)" \
  bash scripts/package.sh --debug --test-key "$TEST_KEY" --version "$NEWER" --bundles appimage
cp "$BUNDLE/appimage/Review Station_${NEWER}_amd64.AppImage"* "$UPDATE_WORK/"
step "update test (router on loopback: a bad signature, an unknown key, then the newer build installed)" \
  bash tests/package/update_test.sh "$UPDATE_WORK/Review Station_${VERSION}_amd64.AppImage" \
  "$UPDATE_WORK/Review Station_${NEWER}_amd64.AppImage" "$NEWER"
rm -rf "$UPDATE_WORK"
