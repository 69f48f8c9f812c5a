#!/bin/sh
# Starts the app with its data on a small filesystem of its own: `small_disk.sh DISK SIZE APP
# ARGS…` makes a user and mount namespace (root there, nobody's privilege outside), mounts a
# tmpfs of SIZE at DISK and execs APP in it (same process, so the WebDriver's PID is the app's).
# Outside, the disk is reached through /proc/<pid>/root/DISK (the test fills it that way).
set -eu
disk=$1 size=$2
shift 2
exec unshare --user --map-root-user --mount --propagation private -- \
  sh -c 'mount -t tmpfs -o "size=$1" tmpfs "$0" && shift && exec "$@"' "$disk" "$size" "$@"
