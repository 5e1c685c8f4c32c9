#!/bin/sh
# A file through ext2 on virtio-blk and back: the test puts /input.txt on an
# ext2 image, the disk guest (initramfs) mounts /dev/vda, reads it, writes
# /output.txt ("umbra read N bytes: " + the input with letter case swapped),
# unmounts and powers off; the host then reads /output.txt out of the image
# and compares it byte for byte, and e2fsck must find the image clean.
#   boot_disk.sh MACHINE GUEST_DIR INITRD [HARTS]
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
initrd=$3
harts=${4:-2}
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd mke2fs e2fsprogs
need_cmd debugfs e2fsprogs
need_cmd e2fsck e2fsprogs
[ -f "$initrd" ] || fail "no disk-guest initramfs at $initrd"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
# 20,000 bytes: several blocks, an indirect-block-free but multi-sector file
i=0
while [ $i -lt 500 ]; do
    printf 'Line %03d of the umbra Disk Test: AbCdEfGh.\n' $i
    i=$((i + 1))
done | head -c 20000 > "$work/root/input.txt"
disk=$work/disk.ext2
mke2fs -q -t ext2 -b 1024 -d "$work/root" "$disk" 8M || fail "mke2fs failed"

run_linux "$work/log" "$machine" "$guest" "$harts" -initrd "$initrd" \
    -drive "file=$disk,format=raw,if=none,id=hd0" -device virtio-blk-device,drive=hd0 \
    -append "console=ttyS0"
[ "$status" -ne 124 ] || fail "timed out"
grep -q '^UMBRA-DISK PASS' "$work/log" || fail "no 'UMBRA-DISK PASS' line"
[ "$status" -eq 0 ] || fail "exit status $status, expected 0"

{ printf 'umbra read %d bytes: ' "$(wc -c < "$work/root/input.txt")"
  tr 'a-zA-Z' 'A-Za-z' < "$work/root/input.txt"; } > "$work/expected"
debugfs -R "dump /output.txt $work/output" "$disk" 2>/dev/null
[ -f "$work/output" ] || fail "/output.txt is not in the image"
cmp "$work/expected" "$work/output" || fail "/output.txt differs from what the guest had to write"
echo "+ e2fsck -fn $disk"
e2fsck -fn "$disk" || fail "e2fsck finds the image the guest wrote inconsistent"
echo "PASS"
