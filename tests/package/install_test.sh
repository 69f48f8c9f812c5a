#!/usr/bin/env bash
# Installs the .deb with dpkg into a throwaway root and uses the installed app, then does the
# same with the AppImage: proves the packages are complete. The root is this machine's, seen
# through a mount namespace of its own: /usr, /etc, /var and /opt are overlays whose changes
# vanish with the namespace, and the build tree ($CARGO_TARGET_DIR, the fetched models in
# ~/.cache/review-station) is hidden under empty folders, so the app can only use what its
# package carries. Needs root (CI runs as root), unshare (util-linux), tauri-driver, Xvfb.
#   bash tests/package/install_test.sh DEB APPIMAGE
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEB="$(realpath "$1")"
APPIMAGE="$(realpath "$2")"
work="$(mktemp -d /tmp/rs-install-XXXXXX)"
trap 'rm -rf "$work"' EXIT
# the packages and the tools the test runs with, copied out before the build tree is hidden
cp "$DEB" "$work/app.deb"
cp "$APPIMAGE" "$work/app.AppImage"
chmod +x "$work/app.AppImage"
driver="$(command -v tauri-driver)"
cp "$driver" "$work/tauri-driver"
export WORK="$work" ROOT CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/review-station/target}"
unshare --mount --propagation private bash -euo pipefail -c '
  for dir in usr etc var opt; do
    mkdir -p "$WORK/$dir-upper" "$WORK/$dir-work"
    mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$WORK/$dir-upper,workdir=$WORK/$dir-work" "/$dir"
  done
  for hidden in "$CARGO_TARGET_DIR" "$HOME/.cache/review-station"; do
    [[ -d "$hidden" ]] && mount -t tmpfs -o size=1m,mode=0755 tmpfs "$hidden"
  done
  [[ -e /usr/bin/review-station ]] && { echo "install_test: review-station is installed already" >&2; exit 1; }
  dpkg -i "$WORK/app.deb" >/dev/null
  echo "install_test: the .deb installed: $(dpkg-query -W -f="\${Package} \${Version}, \${Installed-Size} KiB" review-station)"
  test -f "/usr/share/applications/Review Station.desktop"
  desktop-file-validate "/usr/share/applications/Review Station.desktop"
  grep -q "^MimeType=image/jpeg;image/png;image/webp;application/pdf;$" "/usr/share/applications/Review Station.desktop"
  for size in 16 24 32 48 64 128 256 512; do test -f "/usr/share/icons/hicolor/${size}x${size}/apps/review-station.png"; done
  export PATH="$WORK:$PATH"
  cd "$ROOT"
  REVIEW_STATION_BIN=/usr/bin/review-station EXPECTED_MODELS_DIR=/usr/share/review-station/models \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test tests/package/installed.test.mjs
  dpkg -r review-station >/dev/null
  test ! -e /usr/bin/review-station
  echo "install_test: the .deb removed cleanly"
  # the AppImage, extracted and run (no FUSE needed), from a folder of its own
  mkdir "$WORK/appimage" && cd "$WORK/appimage" && "$WORK/app.AppImage" --appimage-extract >/dev/null
  cd "$ROOT"
  REVIEW_STATION_BIN="$WORK/appimage/squashfs-root/AppRun" EXPECTED_MODELS_DIR=share/review-station/models \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test tests/package/installed.test.mjs
'
echo "install_test: both packages work on a root without the build tree"
