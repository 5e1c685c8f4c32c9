#!/usr/bin/env bash
# guest/perf_map: --perf-map names the translated code for perf. On the
# program with a hot and a cold loop (profile.c): /tmp/perf-PID.map has the
# stubs' line and one line per unit --stats-json counts, in perf's format
# ("START SIZE NAME", hex), no two ranges overlapping; with the program's
# own symbols (nm) the loops' units are named hot_loop+0x.. and
# cold_loop+0x.., without them "guest 0xPC" with every pc inside the
# program's code. --perf-map with --engine=interp is a usage error (exit 2).
# Usage: perf_map.sh UMBRA PROGRAM.elf NM
set -u -o pipefail
umbra="$1" elf="$2" nm="$3"
dir="$(mktemp -d)"
maps=()
trap 'rm -rf "$dir" "${maps[@]}"' EXIT
fail() { echo "perf_map: $*"; exit 1; }
stubs=' umbra exit and cross-page stubs$'     # the one line that names no unit

"$nm" "$elf" >"$dir/prog.map" || fail "$nm could not read $elf"

# run NAME ARGS...: umbra on the program; sets $map to the perf map it wrote
run() {
    local name=$1
    shift
    "$umbra" -bios none -kernel "$elf" --perf-map --stats-json "$dir/$name.json" "$@" \
        </dev/null >"$dir/$name.out" 2>&1 &
    local pid=$!
    wait $pid
    local status=$?
    map=/tmp/perf-$pid.map
    maps+=("$map")
    cat "$dir/$name.out"
    [ "$status" = 0 ] || fail "$name: exit status $status"
    tr -d '\r' <"$dir/$name.out" | grep -qx PASS || fail "$name: the program never printed PASS"
    [ -s "$map" ] || fail "$name: no $map"
}

# check NAME: the format, the line count against jit_units, no overlaps
check() {
    local name=$1
    grep -Evq '^[0-9a-f]+ [0-9a-f]+ [^ ].*$' "$map" && fail "$name: a line is not START SIZE NAME"
    [ "$(grep -c "$stubs" "$map")" = 1 ] || fail "$name: not one stubs line"
    local units lines
    units=$(grep -o '"jit_units": *[0-9]*' "$dir/$name.json" | grep -o '[0-9]*$')
    lines=$(grep -vc "$stubs" "$map")
    [ -n "$units" ] && [ "$units" -gt 0 ] || fail "$name: --stats-json counts no units"
    [ "$lines" = "$units" ] || fail "$name: $lines unit lines for $units units"
    while read -r start size _; do echo $((16#$start)) $((16#$size)); done <"$map" | sort -n |
        awk '$2 <= 0 { exit 1 } NR > 1 && $1 < end { exit 1 } { end = $1 + $2 }' ||
        fail "$name: an empty range, or two that overlap"
    echo "perf_map: $name: $units units, each on its own line"
}

run named --profile-symbols "$dir/prog.map"
cat "$map"
check named
grep -q ' hot_loop+0x[0-9a-f]*$' "$map" || fail "no unit named in hot_loop"
grep -q ' cold_loop+0x[0-9a-f]*$' "$map" || fail "no unit named in cold_loop"

run raw
check raw
# the program's code: from its lowest to its highest text symbol, + 4 KiB
lo= hi=
while read -r addr type _; do
    [[ $type == [tT] ]] || continue
    a=$((16#$addr))
    [ -n "$lo" ] && [ "$a" -ge "$lo" ] || lo=$a
    [ -n "$hi" ] && [ "$a" -le "$hi" ] || hi=$a
done <"$dir/prog.map"
[ -n "$lo" ] || fail "no text symbols in $elf"
while read -r _start _size what pc; do
    [ "$what" = guest ] && [[ $pc =~ ^0x[0-9a-f]+$ ]] &&
        [ $((pc)) -ge "$lo" ] && [ $((pc)) -lt $((hi + 4096)) ] ||
        fail "raw: unit '$what $pc' is not named guest 0xPC inside the program's code"
done < <(grep -v "$stubs" "$map")

"$umbra" -bios none -kernel "$elf" --perf-map --engine=interp </dev/null >"$dir/interp.out" 2>&1
status=$?
[ "$status" = 2 ] || fail "--perf-map --engine=interp: exit status $status, expected 2"
grep -q -- "--perf-map" "$dir/interp.out" || fail "--perf-map --engine=interp: no message naming it"
echo "perf_map: PASS"
