#!/usr/bin/env bash
# Installs what is missing, builds the LLM router (release) and starts it:
#   bash scripts/run-router.sh [--config FILE] [keys create NAME | keys revoke ID | users add NAME --role ROLE | users list | users reset-totp NAME | users unlock NAME | users revoke-sessions NAME]
# The config defaults to config/router.toml (loopback, SQLite ledger next to it); the backends'
# API keys come from the environment variables it names.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh --router
cargo build --release -p router --bin review-router --quiet
args=("$@")
[[ "${1:-}" == "--config" ]] || args=(--config config/router.toml "$@")
exec "$CARGO_TARGET_DIR/release/review-router" "${args[@]}"
