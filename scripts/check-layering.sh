#!/usr/bin/env bash
# Core crates under crates/ must never depend on tauri (directly or through another crate).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
for manifest in crates/*/Cargo.toml; do
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  tree=$(cargo tree -p "$name" --edges normal,build --prefix none --format '{p}')
  if grep -Eq '^tauri(-[a-z-]+)? ' <<<"$tree"; then
    echo "layering: crate $name depends on tauri" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "layering: crates/* are free of tauri"
exit $status
