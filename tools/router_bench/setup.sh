#!/usr/bin/env bash
# The LiteLLM proxy (pinned, from PyPI) in its own venv, for the router's side-by-side benchmark
# (crates/router/benches/router_bench.rs). It runs offline: the bench sets
# LITELLM_LOCAL_MODEL_COST_MAP so nothing is fetched.
set -euo pipefail
VENV="$HOME/.cache/review-station/venv-litellm"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r "$(dirname "$0")/requirements.txt"
echo "LiteLLM installed in $VENV"
