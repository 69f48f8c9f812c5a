#!/usr/bin/env bash
# The crate graph's rules (ARCHITECTURE.md, "Layers"), checked on the resolved dependency tree:
# - no crate under crates/ depends on tauri (directly or through another crate);
# - protocol is plain data: none of our crates, no I/O (no tokio, sqlx, reqwest, axum);
# - the router (crates/router) never depends on station, engine or tauri;
# - the fake LLM provider (crates/fake-llm) is for tests and benchmarks only: no crate depends
#   on it but as a dev-dependency; nor on the testbed (the router in-process and gnome-keyring
#   for the sync and station tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
tree_of() {
  cargo tree -p "$1" --edges normal,build --prefix none --format '{p}'
}
for manifest in crates/*/Cargo.toml; do
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  tree=$(tree_of "$name")
  if grep -Eq '^tauri(-[a-z-]+)? ' <<<"$tree"; then
    echo "layering: crate $name depends on tauri" >&2
    status=1
  fi
  if [[ "$name" != fake-llm && "$name" != testbed ]] && grep -Eq '^(fake-llm|testbed) ' <<<"$tree"; then
    echo "layering: crate $name depends on the fake LLM provider or the testbed (only tests and benchmarks may)" >&2
    status=1
  fi
  case "$name" in
    protocol)
      if bad=$(grep -E '^(engine|extract|store|review|station|router|tokio|sqlx|reqwest|axum|hyper) ' <<<"$tree"); then
        echo "layering: protocol must stay plain data, but depends on: $(tr '\n' ' ' <<<"$bad")" >&2
        status=1
      fi
      ;;
    sync)
      if bad=$(grep -E '^(station|store|engine|router|tauri) ' <<<"$tree"); then
        echo "layering: the sync client speaks protocol only, but depends on: $(tr '\n' ' ' <<<"$bad")" >&2
        status=1
      fi
      ;;
    router)
      if bad=$(grep -E '^(engine|station|tauri) ' <<<"$tree"); then
        echo "layering: the router must not depend on: $(tr '\n' ' ' <<<"$bad")" >&2
        status=1
      fi
      ;;
  esac
done
[[ $status -eq 0 ]] && echo "layering: crates/* are free of tauri; protocol is plain data; the router and the sync client are apart; the fake LLM and the testbed are test-only"
exit $status
