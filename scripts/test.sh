#!/usr/bin/env bash
# Builds (if needed) and runs every test: unit tests, kernel parity tests and the fixture
# tests that compare against ../shared (read in place). Extra arguments go to ctest,
# e.g. scripts/test.sh -R fixtures
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${PANGOLIN_CMAKE_ARGS:-} >&2
fi
cmake --build build -j"$(nproc)" >&2
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
