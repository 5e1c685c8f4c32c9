#!/bin/sh
# OpenSBI + Linux with its root on an ext2 disk (virtio-blk at the last
# virtio-mmio slot, /dev/vda): /init is the smoke program taken from the
# initramfs. The smoke run writes and deletes a script in /tmp, so the guest
# writes through virtio-blk; afterwards the host checks the image:
#  - e2fsck -fn finds it consistent (see below for the one expected note);
#  - the superblock counts one mount (the guest's read-write mount);
#  - /tmp changed (a file was created and removed there by the guest).
#   boot_ext2.sh MACHINE GUEST_DIR [HARTS]
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
harts=${3:-2}
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd mke2fs e2fsprogs
need_cmd e2fsck e2fsprogs
need_cmd debugfs e2fsprogs
need_cmd dumpe2fs e2fsprogs
need_cmd cpio cpio
need_cmd timeout coreutils

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
(cd "$work/root" && gzip -dc "$guest/smoke.cpio.gz" | cpio -idm --quiet init) ||
    fail "cannot extract /init from smoke.cpio.gz"
[ -x "$work/root/init" ] || fail "smoke.cpio.gz has no executable /init"
mkdir "$work/root/dev" "$work/root/proc" "$work/root/sys" "$work/root/tmp" "$work/root/mnt"
chmod 1777 "$work/root/tmp"
disk=$work/smoke.ext2
mke2fs -q -t ext2 -d "$work/root" "$disk" 16M || fail "mke2fs failed"

tmp_stat() {
    debugfs -R "stat /tmp" "$disk" 2>/dev/null | grep -E '^ *(ctime|mtime):'
}
mounts() {
    dumpe2fs -h "$disk" 2>/dev/null | sed -n 's/^Mount count: *//p'
}
before=$(tmp_stat)
[ "$(mounts)" = 0 ] || fail "a fresh image should have a mount count of 0"

run_linux "$work/log" "$machine" "$guest" "$harts" \
    -drive "file=$disk,format=raw,if=none,id=hd0" -device virtio-blk-device,drive=hd0 \
    -append "console=ttyS0 earlycon=sbi root=/dev/vda rw init=/init"
expect_smoke_pass "$work/log"
grep -q 'virtio_blk virtio[0-9]*: \[vda\]' "$work/log" || fail "the kernel found no vda"

# The guest syncs and powers off without unmounting (ext2 has no journal),
# so the inode of the file it deleted last may still have a zero dtime on
# disk: e2fsck flags that ("Deleted inode N has zero dtime"), and QEMU's run
# of this same guest leaves exactly the same. Anything else is a failure.
echo "+ e2fsck -fn $disk"
set +e
e2fsck -fn "$disk" >"$work/fsck" 2>&1
fsck_status=$?
set -e
cat "$work/fsck"
if [ "$fsck_status" -ne 0 ]; then
    grep -q '? no$' "$work/fsck" || fail "e2fsck failed (status $fsck_status)"
    if grep '? no$' "$work/fsck" | grep -vqE '^Deleted inode [0-9]+ has zero dtime\.  Fix\? no$'; then
        fail "e2fsck reports problems in the image the guest wrote"
    fi
    echo "note: only the zero-dtime inode of a file deleted just before poweroff"
fi
[ "$(mounts)" = 1 ] || fail "mount count is '$(mounts)', expected 1 (the guest's rw mount)"
after=$(tmp_stat)
echo "/tmp before: $before"
echo "/tmp after:  $after"
[ "$before" != "$after" ] || fail "/tmp is unchanged: the guest's file writes did not reach the disk"
echo "PASS"
