#!/bin/sh
# Dependencies point one way (DESIGN.md section 7, README "Layout"):
#   umbra.c -> machine -> {cpu, dev} -> coherence -> mmu -> mem -> base
# Every #include "part/..." in src/ must name the file's own part or one
# below it; cpu and dev, side by side, do not include each other.
#   layers.sh SRC_DIR
set -eu
. "$(dirname "$0")/lib.sh"
src=$1
[ -d "$src/cpu" ] || fail "no src/cpu under $src"

rank() {
    case $1 in
        base) echo 0 ;; mem) echo 1 ;; mmu) echo 2 ;; coherence) echo 3 ;;
        cpu|dev) echo 4 ;; machine) echo 5 ;; umbra.c) echo 6 ;;
        *) echo "" ;;
    esac
}

bad=0 checked=0
for file in "$src"/*/*.[ch] "$src"/umbra.c; do
    rel=${file#"$src"/}
    part=${rel%%/*}
    own=$(rank "$part")
    [ -n "$own" ] || { echo "$rel: in no known part"; bad=1; continue; }
    for used in $(sed -n 's/^#include "\([a-z_]*\)\/.*/\1/p' "$file" | sort -u); do
        checked=$((checked + 1))
        [ "$used" = "$part" ] && continue
        r=$(rank "$used")
        if [ -z "$r" ] || [ "$r" -ge "$own" ]; then
            echo "$rel includes $used/: not below $part"
            bad=1
        fi
    done
done
[ "$checked" -ge 50 ] || fail "read only $checked includes under $src"
[ "$bad" -eq 0 ] || fail "an include points up or sideways"
echo "PASS ($checked part includes)"
