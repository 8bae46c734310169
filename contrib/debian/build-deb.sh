#!/bin/sh
# build-deb.sh WORKDIR OUT.deb: turns what `make install DESTDIR=WORKDIR/debian/switchyard
# PREFIX=/usr` put there into a Debian binary package, with dpkg-deb alone (no debhelper):
# what dh_strip, dh_compress, dh_installdocs, dh_md5sums, dh_shlibdeps and dh_gencontrol
# would do, done here.
#
# From the environment: DEB_VERSION, MAINTAINER, SOURCE_DATE_EPOCH (every time stamp),
# SITE_BINARY (a site built by this tree: the shared libraries a site links are found on
# it). The same inputs give the same bytes: modes and times are set here, owners are
# root's (--root-owner-group), dpkg-deb sorts the members, gzip -n stores no name or time.
set -eu

work=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$work" && pwd)
root=$work/debian/switchyard
doc=$root/usr/share/doc/switchyard
: "${DEB_VERSION:?}" "${MAINTAINER:?}" "${SOURCE_DATE_EPOCH:?}" "${SITE_BINARY:?}"
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC

# Debug sections go, as dh_strip does; yardc's and the runtime's code stays as built.
strip_objects() {
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/yardc"
    strip --remove-section=.comment --remove-section=.note --strip-debug \
        --enable-deterministic-archives "$root/usr/lib/switchyard/libswitchyard.a" \
        "$root/usr/lib/switchyard/main.o"
}

# Manual pages, and documents over 4 KiB, are compressed (Debian policy 12.1, 12.3).
add_docs() {
    install -d "$doc"
    install -m 644 "$here/copyright" "$doc/copyright"
    install -m 644 README.md docs/*.md "$doc/"
    find "$doc" -type f -size +4k ! -name copyright -exec gzip -9nf {} +
    find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} +
    {
        printf 'switchyard (%s) unstable; urgency=medium\n\n' "$DEB_VERSION"
        printf '  * Built from the switchyard source tree with make deb.\n\n'
        printf ' -- %s  %s\n' "$MAINTAINER" "$(date -R -d "@$SOURCE_DATE_EPOCH")"
    } | gzip -9n >"$doc/changelog.Debian.gz"
}

# The libraries yardc and a site binary load, as dpkg-shlibdeps finds them, and what a
# site build needs: a C compiler and the runtime's link libraries (static ones included,
# for switchyard-build --static), and adduser for postinst.
depends() {
    local site=$work/debian/site
    mkdir -p "$site/DEBIAN" "$site/usr/bin"
    cp "$SITE_BINARY" "$site/usr/bin/switchyard"
    printf 'Source: switchyard\n\nPackage: switchyard\nArchitecture: any\n\nPackage: site\nArchitecture: any\n' \
        >"$work/debian/control"
    shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"$root/usr/bin/yardc" -e"$site/usr/bin/switchyard")
    echo "${shlibs#shlibs:Depends=}, adduser, gcc | c-compiler, libc6-dev, libev-dev, libseccomp-dev, libbpf-dev, libssl-dev"
}

# Installed-Size as dpkg-gencontrol counts it: KiB per file rounded up, 1 per other entry.
installed_size() {
    find "$root" -mindepth 1 ! -path "$root/DEBIAN*" -printf '%y %s\n' |
        awk '{ n += $1 == "f" ? int(($2 + 1023) / 1024) : 1 } END { print n }'
}

write_control() {
    install -d -m 755 "$root/DEBIAN"
    deps=$(depends)
    sed -e "s|@DEB_VERSION@|$DEB_VERSION|" -e "s|@ARCH@|$(dpkg --print-architecture)|" \
        -e "s|@MAINTAINER@|$MAINTAINER|" -e "s/@INSTALLED_SIZE@/$(installed_size)/" \
        -e "s/@DEPENDS@/$deps/" "$here/control.in" >"$root/DEBIAN/control"
    install -m 755 "$here/postinst" "$here/postrm" "$root/DEBIAN/"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort |
        xargs -d '\n' md5sum) >"$root/DEBIAN/md5sums"
}

# Modes and times owe nothing to the umask or the clock of this build.
normalise() {
    find "$root" -type d -exec chmod 755 {} +
    find "$root" -type f -perm /111 -exec chmod 755 {} +
    find "$root" -type f ! -perm /111 -exec chmod 644 {} +
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

strip_objects
add_docs
write_control
normalise
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
