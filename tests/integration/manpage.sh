#!/bin/sh
# The manual page: groff renders it without a single warning, it names every
# flag of the option table in src/machine/options.c (so the two cannot drift
# apart), and `cmake --install` puts it and the binary in place.
#   manpage.sh MANPAGE OPTIONS_C BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
page=$1
options=$2
build=$3
need_cmd groff groff-base
need_cmd col bsdextrautils
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

groff -man -Tutf8 -wall -z "$page" 2>"$dir/warnings" || fail "groff failed on $page"
if [ -s "$dir/warnings" ]; then
    cat "$dir/warnings"
    fail "groff warns about $page"
fi
groff -man -Tascii -P-c "$page" 2>/dev/null | col -bx >"$dir/text"
[ "$(wc -l <"$dir/text")" -gt 100 ] || fail "the rendered page is suspiciously short"

# every entry of option_table: { "name", takes_value, umbra_own, handler }
sed -n '/option_table\[\] = {/,/^};/s/^ *{ "\([^"]*\)", [a-z]*, \([a-z]*\),.*/\1 \2/p' "$options" \
    >"$dir/flags"
[ "$(wc -l <"$dir/flags")" -ge 20 ] || fail "cannot read the option table in $options"
missing=0
while read -r name own; do
    # umbra's own flags are written --name; QEMU's -name (or --name, which
    # umbra accepts too, as QEMU does)
    if [ "$own" = true ]; then flag="--$name"; else flag="--?$name"; fi
    # the flag as a word of its own: not a prefix of a longer flag
    if ! grep -Eq -- "(^|[^-A-Za-z])$flag([^-A-Za-z]|\$)" "$dir/text"; then
        echo "not in the manual page: $name"
        missing=$((missing + 1))
    fi
done <"$dir/flags"
[ "$missing" -eq 0 ] || fail "$missing flags of the option table are missing from $page"
echo "all $(wc -l <"$dir/flags") flags of the option table are documented"

cmake --install "$build" --prefix "$dir/prefix" >/dev/null || fail "cmake --install failed"
[ -x "$dir/prefix/bin/umbra" ] || fail "cmake --install put no bin/umbra"
cmp -s "$page" "$dir/prefix/share/man/man1/umbra.1" || fail "cmake --install put no share/man/man1/umbra.1"
echo "PASS"
