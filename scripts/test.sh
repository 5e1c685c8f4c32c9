#!/usr/bin/env bash
# The whole test suite: installs missing dependencies, builds, runs every
# CTest test (unit, guest programs, differential against QEMU, boots).
# Extra arguments go to ctest (e.g. -L unit, -R smoke).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
cd "${UMBRA_BUILD_DIR:-$top/build}"
ctest -j"$(nproc)" --output-on-failure "$@"
