#!/usr/bin/env bash
# Installs the Debian packages Pangolin builds with (when missing), then configures and
# builds it in ./build (Release, Ninja). Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libpcre2-dev libsentencepiece-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenmpi-dev openmpi-bin
  chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the server tests (the official openai client); any install will do
# (Debian's packages, or a Node.js that brings its own npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The server tests' npm packages (the official openai and Anthropic clients, playwright-core
# driving Debian's chromium for the chat page), from the lock file.
if [ ! -d tests/server/node_modules ] || [ tests/server/package-lock.json -nt tests/server/node_modules ]; then
  (cd tests/server && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${PANGOLIN_CMAKE_ARGS:-} >&2
cmake --build build -j"$(nproc)" >&2
echo "setup: built build/pangolin" >&2
