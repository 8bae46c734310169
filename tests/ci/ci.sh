#!/usr/bin/env bash
# contrib/ci/build-sites.sh on the sample repository tests/ci/sites-repo (two sites), with
# the toolchain of `make install`: every artefact, its checksum and digest, a failing
# expect, and two builds that differ. Called by tests/run.sh with BUILD.
set -u
: "${BUILD:=build}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
ci=$tmp/root/usr/share/switchyard/ci/build-sites.sh
fail() { echo "FAIL: $*"; exit 1; }

make -s --no-print-directory BUILD="$BUILD" install DESTDIR="$tmp/root" PREFIX=/usr \
    >/dev/null || fail "make install"
export SWITCHYARD_BIN=$tmp/root/usr/bin
# The workflow runs the script where make install put it.
grep -q "sh /opt/switchyard/share/switchyard/ci/build-sites.sh" \
    "$tmp/root/usr/share/switchyard/ci/github-actions.yml" || fail "workflow: no build-sites.sh"
cp -r tests/ci/sites-repo "$tmp/repo" || exit 1

(cd "$tmp/repo" && sh "$ci") >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "build-sites.sh: status $?"; }
cat "$tmp/out"
for site in blog shop; do
    a=$tmp/repo/artefacts/$site
    [ "$(ls "$a" | tr '\n' ' ')" = "config.yard digest switchyard switchyard.sha256 version " ] ||
        fail "$site: artefacts: $(ls "$a")"
    (cd "$a" && sha256sum -c --quiet switchyard.sha256) || fail "$site: checksum"
    file "$a/switchyard" | grep -q 'statically linked' || fail "$site: not static"
    "$tmp/root/usr/bin/yardc" --print "$tmp/repo/sites/$site.yard" | cmp - "$a/config.yard" ||
        fail "$site: config.yard is not the canonical configuration"
    # The digest of a build by another way (dynamic, by hand) is the same.
    d=$(cd "$tmp" && "$SWITCHYARD_BIN/switchyard-build" -o dyn "repo/sites/$site.yard") ||
        fail "$site: dynamic build"
    [ "$d" = "$(cat "$a/version")" ] || fail "$site: version '$(cat "$a/version")', built: '$d'"
    [ "switchyard 0.1.0 config $(cat "$a/digest")" = "$d" ] || fail "$site: digest"
    grep -qx "ok     $site $(cat "$a/digest")" "$tmp/out" || fail "$site: no ok line"
done
"$tmp/repo/artefacts/blog/switchyard" --resolve blog blog.example |
    grep -qx 'server: \[2001:db8::30\]:443 weight 1' || fail "blog's binary does not route"

# A failing expect: that site fails, with yardc's message, and leaves no artefact; the
# other is still built.
sed -i 's/^expect shop-tls www.shop.example -> \[2001:db8::10\]:443;/expect shop-tls www.shop.example -> [2001:db8::11]:443;/' \
    "$tmp/repo/sites/shop.yard"
rc=0
(cd "$tmp/repo" && sh "$ci") >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[ "$rc" = 1 ] || fail "a failing expect: status $rc"
grep -q 'shop.yard:.*error: expect' "$tmp/out" || fail "no message for the failing expect"
grep -qx 'FAIL   shop' "$tmp/out" && grep -q '^ok     blog ' "$tmp/out" || fail "per-site lines"
[ ! -e "$tmp/repo/artefacts/shop" ] || fail "artefacts left for a failed site"
cp tests/ci/sites-repo/sites/shop.yard "$tmp/repo/sites/shop.yard"

# Two builds that differ (a random build id) are caught.
rc=0
(cd "$tmp/repo" && CC="cc -Wl,--build-id=uuid" sh "$ci") >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[ "$rc" = 1 ] && grep -q 'blog.yard: two builds differ' "$tmp/out" || fail "differing builds: status $rc"
echo "all checks passed"
