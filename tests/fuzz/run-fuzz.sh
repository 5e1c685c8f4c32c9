#!/bin/sh
# Run one libFuzzer target for a bounded time: every seed first (a seed that
# crashes fails at once), then new inputs mutated from them.
#   run-fuzz.sh FUZZER SEED_DIR SECONDS ARTIFACT_DIR [LIBFUZZER_FLAG...]
# New inputs go to a temporary corpus, never into the seed directory; a
# crashing input is kept in ARTIFACT_DIR and the run fails.
set -eu
fuzzer=$1
seeds=$2
seconds=$3
artifacts=$4
shift 4
[ -d "$seeds" ] || { echo "run-fuzz: no seed directory $seeds"; exit 1; }
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# -timeout: one input that runs this long is a hang; -rss_limit_mb: a leak
# or a runaway allocation. Leak checking stays on (ASan's default).
# -seed: the same mutations on every run, so a failure reproduces with the
# same command; UMBRA_FUZZ_SEED=0 lets libFuzzer pick one (longer hunts).
"$fuzzer" -seed="${UMBRA_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$work" "$seeds"
