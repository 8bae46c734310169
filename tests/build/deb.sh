#!/usr/bin/env bash
# make deb: the same tree gives the same .deb, byte for byte (built twice, the second
# time a second later and under another umask), lintian finds no error in it, and it
# installs, works and purges cleanly in a throwaway copy of this system: an overlay of /
# in a private mount namespace, chrooted into, so the real system is never touched.
# Installed, its files match its md5sums, yardc runs, switchyard-build turns the example
# site into a proxy that answers --resolve, the manual pages render without a warning,
# Vim knows *.yard files, and the account exists; purged, no file of the package and no
# account is left.
#
# Needs root (mount, chroot); SKIPs without it. BUILD, CC and LINK_FLAGS as in tests/run.sh.
set -u
: "${BUILD:=build}" "${CC:=cc}" "${LINK_FLAGS:=}"
fail() { echo "FAIL: $*"; exit 1; }
mk() { make -s --no-print-directory BUILD="$BUILD" "$@"; }

# Under make check this runs in a sub-make's environment, which may add directory lines.
deb=$(mk --eval '_deb: ; @echo $(DEB)' _deb | grep -x '.*\.deb') ||
    fail "cannot read DEB from the GNUmakefile"
version=$(mk --eval '_v: ; @echo $(VERSION)' _v | grep -x '[0-9][0-9.]*') ||
    fail "cannot read VERSION from the GNUmakefile"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

mk deb >/dev/null || fail "make deb"
cp "$deb" "$tmp/first.deb"
sleep 1     # a time stamp of the build itself would differ now
(umask 077 && mk deb >/dev/null) || fail "make deb, the second time"
cmp "$tmp/first.deb" "$deb" || fail "two builds of the same tree differ"
echo "reproducible: $(sha256sum <"$deb" | cut -d' ' -f1) $deb"

for field in Package Version Architecture Maintainer Installed-Size Depends Section \
    Priority Description; do
    [ -n "$(dpkg-deb -f "$deb" "$field")" ] || fail "control: no $field"
done
[ "$(dpkg-deb -f "$deb" Version)" = "$version-1" ] || fail "Version is not $version-1"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture"
dpkg-deb -c "$deb" | awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' ||
    fail "members not owned by root"

lintian --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>&1
cat "$tmp/lintian"
! grep -q '^E:' "$tmp/lintian" || fail "lintian errors"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: installing the package into a throwaway root needs root (mount, chroot)"
    exit 0
fi
# A mount namespace of its own whose mounts stay private (not where / is no mount point,
# as inside a chroot: the overlay would then show in the parent's namespace too).
if ! unshare -m --propagation private true 2>/dev/null; then
    echo "SKIP: no private mount namespace here (unshare --propagation private fails)"
    exit 0
fi
cp "$deb" "$tmp/switchyard.deb"
cp "$(dirname "$0")/deb-chroot.sh" "$tmp/"
mkdir "$tmp/ovl"
# The overlay's upper layer is a tmpfs of this namespace: nothing reaches the real /.
unshare -m --propagation private bash -c '
    set -e
    t=$1
    mount -t tmpfs tmpfs "$t/ovl" 2>/dev/null || { echo "SKIP: cannot mount a tmpfs"; exit 0; }
    mkdir "$t/ovl/up" "$t/ovl/work" "$t/ovl/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$t/ovl/up,workdir=$t/ovl/work" \
        "$t/ovl/root" 2>/dev/null || { echo "SKIP: cannot mount an overlay of /"; exit 0; }
    r=$t/ovl/root
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/tmp"
    mount -t tmpfs tmpfs "$r/run"
    cp "$t/switchyard.deb" "$t/deb-chroot.sh" "$r/tmp/"
    exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        CC="$2" CFLAGS="$3" VERSION="$4" bash /tmp/deb-chroot.sh /tmp/switchyard.deb
' _ "$tmp" "$CC" "$LINK_FLAGS" "$version"
