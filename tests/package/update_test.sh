#!/usr/bin/env bash
# The update path, end to end (tests/package/update.test.mjs): the AppImage of this version and
# a newer one, both signed with the test key that is built into them as the trusted key
# (scripts/package.sh --test-key), the real router offering the newer one on loopback.
#   bash tests/package/update_test.sh OLD.AppImage NEW.AppImage NEW_VERSION
# Each AppImage's signature is the .sig beside it. Needs tauri-driver, Xvfb, gnome-keyring and
# the router's binary (REVIEW_ROUTER_BIN, default: the debug build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export OLD_APPIMAGE="$1" OLD_SIG="$1.sig" NEW_APPIMAGE="$2" NEW_SIG="$2.sig" NEW_VERSION="$3"
export REVIEW_ROUTER_BIN="${REVIEW_ROUTER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/review-station/target}/debug/review-router}"
dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test --test-timeout=900000 tests/package/update.test.mjs
