#!/usr/bin/env bash
# Installs the .deb with dpkg on a throwaway root without the build tree
# (tests/package/throwaway_root.sh) and uses the installed app through tauri-driver
# (tests/package/installed.test.mjs: a photo and a PDF, OCR, the engine on the package's models,
# About), removes it, then does the same with the AppImage: proves the packages are complete.
# Needs root (CI runs as root), tauri-driver, Xvfb.
#   bash tests/package/install_test.sh DEB APPIMAGE
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/rs-install-XXXXXX)"
trap 'rm -rf "$work"' EXIT
# what the test runs with, copied out before the build tree is hidden
cp "$1" "$work/app.deb"
cp "$2" "$work/app.AppImage"
chmod +x "$work/app.AppImage"
cp "$(command -v tauri-driver)" "$work/tauri-driver"
export WORK="$work" ROOT
bash "$ROOT/tests/package/throwaway_root.sh" bash -euo pipefail -c '
  if [[ -e /usr/bin/review-station ]]; then echo "install_test: review-station is installed already" >&2; exit 1; fi
  dpkg -i "$WORK/app.deb" >/dev/null
  echo "install_test: the .deb installed: $(dpkg-query -W -f="\${Package} \${Version}, \${Installed-Size} KiB" review-station)"
  entry="/usr/share/applications/Review Station.desktop"
  desktop-file-validate "$entry"
  grep -q "^Exec=review-station %F$" "$entry"
  grep -q "^MimeType=image/jpeg;image/png;image/webp;application/pdf;$" "$entry"
  for size in 16 24 32 48 64 128 256 512; do test -f "/usr/share/icons/hicolor/${size}x${size}/apps/review-station.png"; done
  export PATH="$WORK:$PATH"
  cd "$ROOT"
  REVIEW_STATION_BIN=/usr/bin/review-station EXPECTED_MODELS_DIR=/usr/share/review-station/models \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test tests/package/installed.test.mjs
  dpkg -r review-station >/dev/null
  test ! -e /usr/bin/review-station
  echo "install_test: the .deb removed cleanly"
  # the AppImage, extracted and run (no FUSE needed)
  mkdir "$WORK/appimage" && cd "$WORK/appimage" && "$WORK/app.AppImage" --appimage-extract >/dev/null
  cd "$ROOT"
  REVIEW_STATION_BIN="$WORK/appimage/squashfs-root/AppRun" EXPECTED_MODELS_DIR=squashfs-root/usr/share/review-station/models \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" node --test tests/package/installed.test.mjs
'
echo "install_test: both packages work on a root without the build tree"
