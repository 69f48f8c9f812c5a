#!/usr/bin/env bash
# Installs what is missing, builds the UI and the app (release), and starts Review Station.
# Arguments are passed to the app: photos or folders to import, --data-dir DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
npm run --silent build
cargo build --release -p review-station --quiet
exec "$CARGO_TARGET_DIR/release/review-station" "$@"
