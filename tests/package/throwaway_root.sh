#!/usr/bin/env bash
# Runs a command on a throwaway root: this machine's, seen through a mount namespace of its
# own where /usr, /etc, /var and /opt are overlays whose changes vanish with the namespace
# (so `dpkg -i` there installs nothing here), and the build tree ($CARGO_TARGET_DIR and the
# fetched models in ~/.cache/review-station) is hidden under empty folders, so an installed
# app can only use what its package carries. Needs root and unshare (util-linux). Files the
# command needs from the build tree must be copied out first (e.g. under /tmp).
#   bash tests/package/throwaway_root.sh COMMAND [ARGS...]
set -euo pipefail
layers="$(mktemp -d /tmp/rs-root-XXXXXX)"
trap 'rm -rf "$layers"' EXIT
export LAYERS="$layers" HIDE_TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/review-station/target}"
unshare --mount --propagation private bash -euo pipefail -c '
  for dir in usr etc var opt; do
    mkdir -p "$LAYERS/$dir-upper" "$LAYERS/$dir-work"
    mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$LAYERS/$dir-upper,workdir=$LAYERS/$dir-work" "/$dir"
  done
  for hidden in "$HIDE_TARGET" "$HOME/.cache/review-station"; do
    if [[ -d "$hidden" ]]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs "$hidden"; fi
  done
  exec "$@"' throwaway-root "$@"
