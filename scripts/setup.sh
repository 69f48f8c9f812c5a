#!/usr/bin/env bash
# Installs what Review Station needs on Debian 12 / Ubuntu, skipping whatever is already there.
# Sourced by scripts/run.sh (app), scripts/test.sh (tests, with --tests) and
# scripts/run-router.sh (the LLM router, with --router: a C toolchain, OpenSSL and Rust only) and
# scripts/package.sh (the installers, with --package).
#   apt:   WebKitGTK 4.1 + GTK dev files, librsvg, libxdo, OpenSSL, build tools, pkg-config,
#          cmake + nasm (libjpeg-turbo is built from source with SIMD)
#          tests also: webkit2gtk-driver (WebKitWebDriver), xvfb, xauth, xdotool (drives the
#          native file dialog and drags), python3-gi + gir1.2-gtk-3.0 (a drag source window),
#          dbus (dbus-run-session: a session bus for the single-instance check),
#          gnome-keyring + libglib2.0-bin (gdbus): a real Secret Service for the sync tests,
#          openssl (s_server: a TLS server with a certificate nobody trusts, for the sync client),
#          qemu-user (qemu-x86_64 emulates a CPU without VNNI: the OCR test that holds the int8
#          detector to the float one on ONNX Runtime's AVX2 kernels)
#          python3 + pip + venv (the model fetch step; tests: the OpenAI SDK for the router)
#          postgresql + redis-server: the router's shared stores, each started by the tests on
#          a loopback port with a throwaway data folder and stopped by PID (crates/testbed)
#          packages also: patchelf, squashfs-tools, dpkg-dev, libgtk-3-bin, libgdk-pixbuf2.0-bin
#          (linuxdeploy's GTK plugin, for the AppImage), desktop-file-utils (checks the entry)
#   models: models/fetch.py downloads, verifies (sha256) and converts the models of
#          models/manifest.toml into ~/.cache/review-station/models; nothing when all are there
#   Rust:  stable toolchain via rustup when cargo is missing; tests also: tauri-driver 2.1.0,
#          the nightly toolchain and cargo-fuzz 0.13.2 (the fuzz targets)
#   npm:   the UI's packages (npm ci) when node_modules is missing or stale
set -euo pipefail
FOR_TESTS=0
ROUTER_ONLY=0
FOR_PACKAGE=0
[[ "${1:-}" == "--tests" ]] && FOR_TESTS=1
[[ "${1:-}" == "--package" ]] && FOR_PACKAGE=1
[[ "${1:-}" == "--router" ]] && ROUTER_ONLY=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
say() { echo "setup: $*" >&2; }

APT_PACKAGES=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev
  build-essential file pkg-config cmake nasm curl ca-certificates python3 python3-pip python3-venv)
if [[ $ROUTER_ONLY -eq 1 ]]; then APT_PACKAGES=(build-essential pkg-config libssl-dev curl ca-certificates); fi
if [[ $FOR_PACKAGE -eq 1 ]]; then APT_PACKAGES+=(patchelf squashfs-tools dpkg-dev libgtk-3-bin libgdk-pixbuf2.0-bin desktop-file-utils); fi
if [[ $FOR_TESTS -eq 1 ]]; then APT_PACKAGES+=(webkit2gtk-driver xvfb xauth xdotool python3-gi gir1.2-gtk-3.0 dbus qemu-user gnome-keyring libglib2.0-bin openssl postgresql redis-server); fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ $ROUTER_ONLY -eq 0 ]] && { ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; }; then
  say "installing Node.js and npm (Node 20 or newer is required)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
  say "installing the Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
fi

# Builds go to a cache outside the clone so repeated runs from fresh clones stay fast.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/review-station/target}"

# the test command lints with clippy-driver (scripts/test.sh) and checks formatting
if [[ $FOR_TESTS -eq 1 ]] && ! { clippy-driver --version && cargo fmt --version; } >/dev/null 2>&1; then
  say "installing the clippy and rustfmt components"
  rustup component add clippy rustfmt
fi

if [[ $FOR_TESTS -eq 1 ]] && ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver 2.1.0"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi

# the fuzz targets (fuzz/, scripts/fuzz.sh): libFuzzer needs the nightly compiler and cargo-fuzz
if [[ $FOR_TESTS -eq 1 ]] && ! rustup run nightly rustc --version >/dev/null 2>&1; then
  say "installing the nightly Rust toolchain (for cargo-fuzz)"
  rustup toolchain install nightly --profile minimal
fi
if [[ $FOR_TESTS -eq 1 ]] && ! cargo fuzz --version 2>/dev/null | grep -q "0.13.2"; then
  say "installing cargo-fuzz 0.13.2"
  cargo install cargo-fuzz --version 0.13.2 --locked --quiet
fi

# the router needs neither the UI's packages nor the local engine's models
[[ $ROUTER_ONLY -eq 1 ]] && return 0

stamp="$ROOT/node_modules/.package-lock.json"
if [[ ! -f "$stamp" || "$ROOT/package-lock.json" -nt "$stamp" ]]; then
  say "installing npm packages"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

# tests: the official OpenAI Python SDK (pinned), run unchanged against the router
if [[ $FOR_TESTS -eq 1 ]]; then
  SDK_VENV="$HOME/.cache/review-station/venv-router-tests"
  if [[ ! -f "$SDK_VENV/.stamp" || "$ROOT/tests/router/requirements.txt" -nt "$SDK_VENV/.stamp" ]]; then
    say "installing the OpenAI Python SDK for the router's tests"
    python3 -m venv "$SDK_VENV" && "$SDK_VENV/bin/pip" install -q -r "$ROOT/tests/router/requirements.txt" && touch "$SDK_VENV/.stamp"
  fi
  export ROUTER_SDK_PYTHON="$SDK_VENV/bin/python"
fi

python3 "$ROOT/models/fetch.py" $(nvidia-smi -L >/dev/null 2>&1 && say "NVIDIA GPU found: the model fetch includes the CUDA runtime (~1.5 GB download, once)" && echo --gpu) || { say "the model fetch failed (see above)"; exit 1; }
