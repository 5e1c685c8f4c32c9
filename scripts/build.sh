#!/usr/bin/env bash
# Configure and build umbra and its tests into build/ (warnings are errors).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${UMBRA_BUILD_DIR:-$top/build}"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUMBRA_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
