#!/usr/bin/env bash
# The whole test suite: installs missing dependencies, builds with gcc
# (warnings are errors), runs every CTest test (unit and sanitizer runs, the
# spin model, guest programs, differential tests against QEMU, full boots),
# then checks that the core also builds warning-free with clang.
# Extra arguments go to ctest (e.g. -L unit, -R smoke).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
(cd "${UMBRA_BUILD_DIR:-$top/build}" && ctest -j"$(nproc)" --output-on-failure "$@")
if command -v clang >/dev/null; then
  echo ">> clang build (warnings are errors)"
  CC=clang cmake -S "$top" -B "$top/build-clang" -DUMBRA_WERROR=ON >/dev/null
  cmake --build "$top/build-clang" -j"$(nproc)" --target umbra umbra_core
fi
