#!/usr/bin/env bash
# The whole test suite: installs missing dependencies, builds with gcc
# (warnings are errors), runs every CTest test (unit and sanitizer runs, the
# spin model, guest programs, differential tests against QEMU, full boots),
# then the same machine three more ways, each in its own build directory
# with only the targets it needs:
#   build-clang  clang, warnings as errors: unit tests, guest programs and
#                the libFuzzer targets (UMBRA_FUZZ, 30 s each from their seeds)
#   build-asan   umbra under AddressSanitizer + UBSan (UB is fatal): the
#                bare-metal guest programs, a Linux smoke boot on 2 harts and
#                boot/host_sched (2 harts on 1 CPU: the hart pool)
#   build-tsan   umbra under ThreadSanitizer: the guest programs (the smp
#                program on 4 harts), Linux smoke boots on 2 and 4 harts
#                (4 harts on a 2-CPU host: the hart pool's workers)
#                and boot/host_sched (2 harts on 1 CPU: the pool, and
#                threads per hart with --hart-pool=off)
# Extra arguments go to the first ctest run only (e.g. -L unit, -R smoke).
# UMBRA_EXTRA_BUILDS=0 skips the three extra builds.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
(cd "${UMBRA_BUILD_DIR:-$top/build}" && ctest -j"$jobs" --output-on-failure "$@")
[ "${UMBRA_EXTRA_BUILDS:-1}" = 0 ] && exit 0

# stage NAME: announce a stage; its time is printed when the next starts.
stage_name="" stage_start=0
stage() {
  [ -n "$stage_name" ] && echo ">> $stage_name: $((SECONDS - stage_start)) s"
  stage_name="$1"
  stage_start=$SECONDS
  [ -n "$stage_name" ] && echo ">> $stage_name"
  return 0
}

guest_targets=()
command -v riscv64-unknown-elf-gcc >/dev/null && guest_targets=(guest_programs)
# The fast guest tests: the bare-metal programs on umbra (not on QEMU).
guest_label='^guest$'
# Linux boots: OpenSBI + the smoke initramfs on 2 harts, and on 2 harts
# confined to 1 CPU (boot/host_sched); TSan also on 4 harts with 2 CPUs.
smoke_test='^boot/(linux_smoke_smp2|host_sched)$'
tsan_smoke_tests='^boot/(linux_smoke(_smp2)?|host_sched)$'

if command -v clang >/dev/null; then
  stage "clang build: unit, guest and fuzz tests"
  CC=clang cmake -S "$top" -B "$top/build-clang" -DUMBRA_WERROR=ON -DUMBRA_FUZZ=ON >/dev/null
  cmake --build "$top/build-clang" -j"$jobs" --target umbra unit_tests fuzzers "${guest_targets[@]}"
  (cd "$top/build-clang" &&
   ctest -j"$jobs" --output-on-failure -L '^(unit|guest|fuzz)$' -LE '^(asan|tsan)$')
fi

stage "ASan + UBSan umbra: guest programs, Linux smoke on 2 harts, host_sched"
cmake -S "$top" -B "$top/build-asan" -DUMBRA_WERROR=ON \
      -DUMBRA_SANITIZE=address,undefined >/dev/null
cmake --build "$top/build-asan" -j"$jobs" --target umbra "${guest_targets[@]}"
(cd "$top/build-asan" &&
 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
 ctest -j"$jobs" --output-on-failure -L "$guest_label" &&
 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
 ctest --output-on-failure -R "$smoke_test")

stage "TSan umbra: guest programs, Linux smoke on 2 and 4 harts, host_sched"
cmake -S "$top" -B "$top/build-tsan" -DUMBRA_WERROR=ON -DUMBRA_SANITIZE=thread >/dev/null
cmake --build "$top/build-tsan" -j"$jobs" --target umbra "${guest_targets[@]}"
# halt_on_error: the first data race ends umbra with a failing status.
(cd "$top/build-tsan" &&
 TSAN_OPTIONS=halt_on_error=1 ctest -j"$jobs" --output-on-failure -L "$guest_label" &&
 TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R "$tsan_smoke_tests")
stage ""
