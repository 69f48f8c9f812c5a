#!/usr/bin/env bash
# The installed release build, measured: the packages' sizes, the .deb's installed size, and
# cold start to the first interactive screen (process start → the UI rendered its first screen
# and called `ui_ready`) of the app installed from the .deb and of the extracted AppImage, each
# on a throwaway root without the build tree (tests/package/throwaway_root.sh). The first run
# of each follows a drop of the page cache where the kernel allows it (a truly cold start);
# the rest are warm. Needs root, Xvfb; run scripts/package.sh first.
#   bash scripts/bench-installed.sh [RUNS]   (PROFILE=debug: the debug bundles of package.sh --debug)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-7}"
PROFILE="${PROFILE:-release}"
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/review-station/target}"
VERSION="$(node -p 'require("./package.json").version')"
DEB="$TARGET/$PROFILE/bundle/deb/Review Station_${VERSION}_amd64.deb"
APPIMAGE="$TARGET/$PROFILE/bundle/appimage/Review Station_${VERSION}_amd64.AppImage"
work="$(mktemp -d /tmp/rs-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp "$DEB" "$work/app.deb"
cp "$APPIMAGE" "$work/app.AppImage"
chmod +x "$work/app.AppImage"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ($(nproc) logical CPUs)"
echo "bench-installed: Review Station ${VERSION}, ${PROFILE} build; cpu: ${cpu}; GPU: $(nvidia-smi -L 2>/dev/null | head -1 || echo none)"
printf '%-34s %8.1f MB\n' ".deb" "$(stat -c %s "$DEB" | awk '{print $1/1e6}')" "AppImage" "$(stat -c %s "$APPIMAGE" | awk '{print $1/1e6}')"
export WORK="$work" RUNS
bash "$ROOT/tests/package/throwaway_root.sh" bash -euo pipefail -c '
  dpkg -i "$WORK/app.deb" >/dev/null
  files=$(dpkg -L review-station | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
  printf "%-34s %8.1f MB (%s files; models and runtimes %.1f MB, the binary %.1f MB)\n" "installed from the .deb" \
    "$(echo "$files" | xargs -d "\n" du -cb | tail -1 | cut -f1 | awk "{print \$1/1e6}")" "$(echo "$files" | wc -l)" \
    "$(du -sb /usr/share/review-station | cut -f1 | awk "{print \$1/1e6}")" "$(stat -c %s /usr/bin/review-station | awk "{print \$1/1e6}")"
  mkdir "$WORK/appimage" && (cd "$WORK/appimage" && "$WORK/app.AppImage" --appimage-extract >/dev/null)
  printf "%-34s %8.1f MB\n" "the AppImage, extracted" "$(du -sb "$WORK/appimage/squashfs-root" | cut -f1 | awk "{print \$1/1e6}")"
  measure() {
    local name="$1" bin="$2" times=() i
    for i in $(seq 1 "$RUNS"); do
      local note="warm"
      if [[ $i -eq 1 ]]; then
        if sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then note="page cache dropped"; else note="page cache kept (not allowed here)"; fi
      fi
      local data; data=$(mktemp -d)
      local out; out=$(REVIEW_STATION_EXIT_AFTER_READY=1 REVIEW_STATION_LOG=warn timeout 60 \
        dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" "$bin" --data-dir "$data" 2>&1 | grep -o "ready_ms=[0-9.]*" || true)
      rm -rf "$data"
      local ms="${out#ready_ms=}"
      [[ -n "$ms" ]] || { echo "$name run $i: the app did not report ready" >&2; exit 1; }
      echo "  $name run $i: ${ms} ms ($note)"
      times+=("$ms")
    done
    printf "%s\n" "${times[@]}" | sort -n | awk -v name="$name" "{a[NR]=\$1} END {printf \"cold start of %s: median %.0f ms over %d runs (min %.0f, max %.0f)\n\", name, a[int((NR+1)/2)], NR, a[1], a[NR]}"
  }
  measure "the .deb install" /usr/bin/review-station
  measure "the extracted AppImage" "$WORK/appimage/squashfs-root/AppRun"
'
