#!/bin/sh
# Starts the app with its data on a small filesystem of its own:
#   small_disk.sh DISK SIZE [--read-only-copy-of DIR] APP ARGS…
# makes a user and mount namespace (root there, nobody's privilege outside), mounts a tmpfs of
# SIZE at DISK and execs APP in it (the same process, so the WebDriver's PID is the app's).
# Outside, the disk is reached through /proc/<pid>/root/DISK (the test fills it that way).
# With --read-only-copy-of DIR the tmpfs gets a copy of DIR and is then remounted read-only:
# data on a disk that no longer takes writes.
set -eu
disk=$1 size=$2
shift 2
from=
if [ "${1:-}" = "--read-only-copy-of" ]; then
  from=$2
  shift 2
fi
exec unshare --user --map-root-user --mount --propagation private -- \
  sh -c 'set -e
    disk=$1 size=$2 from=$3
    shift 3
    mount -t tmpfs -o "size=$size" tmpfs "$disk"
    if [ -n "$from" ]; then
      cp -a "$from/." "$disk/"
      mount -o remount,ro "$disk"
    fi
    exec "$@"' small_disk "$disk" "$size" "$from" "$@"
