#!/usr/bin/env bash
# Runs every test of `make test` and ends with one line: "N passed, N failed".
# Called by the GNUmakefile, which builds everything first and passes the lists:
# BUILD, CC, HEADER_FLAGS (to compile a header alone), LINK_FLAGS (CFLAGS and LDFLAGS of
# the build), SITE_LIBS (the libraries a site links), YARDC, UNIT_BINS, REPLAY_BINS,
# FUZZ_NAMES.
set -u

: "${BUILD:=build}" "${CC:=cc}" "${YARDC:=$BUILD/yardc}" "${LINK_FLAGS:=}" "${SITE_LIBS:?}"
passed=0
failed=0
skipped=0
failures=()
log_dir=$BUILD/test-logs
mkdir -p "$log_dir"

# run NAME CMD...: one test; its output goes to a log, shown whole when it fails.
run() {
    local name=$1 log
    shift
    log=$log_dir/$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').log
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf 'ok     %s\n' "$name"
        # Parts a machine could not run say SKIP with their reason; counted apart.
        if grep -q 'SKIP' "$log"; then
            skipped=$((skipped + 1))
            grep 'SKIP' "$log" | sed 's/^/       skip: /'
        fi
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf 'FAIL   %s\n' "$name"
        sed 's/^/       | /' "$log" | tail -n 60
    fi
}

# Every header compiles on its own.
headers_stand_alone() {
    local h ok=0
    for h in runtime/*.h compiler/*.h; do
        [ -e "$h" ] || continue
        printf '#include "%s"\n' "$(basename "$h")" |
            $CC $HEADER_FLAGS -Wall -Wextra -Werror -fsyntax-only -x c - || { echo "$h"; ok=1; }
    done
    return $ok
}

# The same .yard gives a byte-identical table.c and table-data.o, however often and from
# whichever directory it is built, and the same as the ones the build linked.
table_is_deterministic() {
    local y tmp f
    tmp=$(mktemp -d) || return 1
    cp -r examples "$tmp/examples" || return 1
    mkdir "$tmp/a" "$tmp/b" || return 1
    for y in examples/*.yard; do
        "$YARDC" -o "$tmp/a/table.c" "$y" || return 1
        (cd "$tmp" && "$OLDPWD/$YARDC" -o b/table.c "$y") || return 1
        for f in table.c table-data.o; do
            cmp "$tmp/a/$f" "$tmp/b/$f" || { echo "$y: $f differs in another directory"; return 1; }
            cmp "$tmp/a/$f" "$BUILD/$(basename "$y" .yard)/$f" ||
                { echo "$y: $f differs from the build's"; return 1; }
        done
    done
    rm -rf "$tmp"
}

# `make install` gives a toolchain that builds a working proxy on its own: switchyard-build
# in one command (the digest printed, the same bytes from any directory, a static binary on
# request, yardc's errors and status passed on), and by hand as README shows.
installed_tree_builds_a_proxy() {
    local tmp i ex out rc=0
    tmp=$(mktemp -d) || return 1
    i=$tmp/root/usr
    ex=$i/share/switchyard/examples
    make -s --no-print-directory BUILD="$BUILD" install DESTDIR="$tmp/root" PREFIX=/usr \
        >/dev/null || return 1
    # The build's own flags: a sanitizer build's runtime needs them to link.
    local -x CC="$CC" CFLAGS="$LINK_FLAGS"
    out=$(cd "$tmp" && "$i/bin/switchyard-build" "$ex/reference.yard") || return 1
    echo "$out"
    [ "$out" = "$("$tmp/switchyard" --version)" ] && grep -q "config sha256:[0-9a-f]\{64\}$" <<<"$out" ||
        { echo "switchyard-build did not print the binary's --version"; return 1; }
    "$tmp/switchyard" --resolve www-tls TEST2.apalrd.net |
        grep -qx 'server: \[2601:40e:69:69::beef\]:443 weight 1' || return 1
    mkdir "$tmp/elsewhere" && cp -r "$ex/reference.yard" "$ex/errors" "$tmp/elsewhere/" || return 1
    (cd "$tmp/elsewhere" && "$i/bin/switchyard-build" -o sy reference.yard) >/dev/null || return 1
    cmp "$tmp/switchyard" "$tmp/elsewhere/sy" || return 1
    if [[ $LINK_FLAGS != *-fsanitize* ]]; then     # sanitizers cannot link statically
        "$i/bin/switchyard-build" --static -o "$tmp/static" "$ex/reference.yard" >/dev/null \
            2>&1 || return 1
        file "$tmp/static" | grep -q 'statically linked' || { file "$tmp/static"; return 1; }
    fi
    printf 'listen f tls [::1]:1;\nsite a.test { tls [::1]:2; }\nsite a.test { tls [::1]:3; }\n' \
        >"$tmp/bad.yard"
    "$i/bin/switchyard-build" -o "$tmp/bad" "$tmp/bad.yard" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 1 ] && grep -q 'error: duplicate' "$tmp/err" && [ ! -e "$tmp/bad" ] ||
        { echo "a .yard with errors: status $rc"; cat "$tmp/err"; return 1; }
    # By hand, as README shows.
    "$i/bin/yardc" -o "$tmp/t.c" "$ex/reference.yard" || return 1
    $CC $LINK_FLAGS -std=c11 -I"$i/include/switchyard" -c -o "$tmp/t.o" "$tmp/t.c" || return 1
    # shellcheck disable=SC2046
    $CC $LINK_FLAGS -o "$tmp/by-hand" "$tmp/t.o" "$tmp/t-data.o" "$i/lib/switchyard/main.o" \
        "$i/lib/switchyard/libswitchyard.a" $(cat "$i/lib/switchyard/site-libs") || return 1
    "$tmp/by-hand" --resolve www-tls TEST2.apalrd.net |
        grep -qx 'server: \[2601:40e:69:69::beef\]:443 weight 1' || return 1
    rm -rf "$tmp"
}

# `make install SITE=...` installs the systemd units, with the paths of its PREFIX, and the
# site's binary where the service unit runs it; systemd-analyze verify finds nothing to say
# about them (a warning fails the test too).
systemd_units_verify() {
    local tmp u out
    tmp=$(mktemp -d) || return 1
    eval "make -s --no-print-directory BUILD='$BUILD' $BUILD_VARS install DESTDIR='$tmp/root' \
        PREFIX=/usr SITE=examples/reference.yard" >/dev/null || return 1
    u=$tmp/root/usr/lib/systemd/system
    grep -qx 'ExecStart=/usr/lib/switchyard/sites/%i/switchyard --master' "$u/switchyard@.service" &&
        test -f "$u/switchyard@.socket" &&
        test -x "$tmp/root/usr/lib/switchyard/sites/reference/switchyard" ||
        { ls -R "$tmp/root/usr/lib"; return 1; }
    if ! command -v systemd-analyze >/dev/null; then
        echo "SKIP systemd-analyze verify: systemd-analyze is not installed"
        rm -rf "$tmp"
        return 0
    fi
    # Installed under a prefix of its own, so that the commands the units name exist.
    eval "make -s --no-print-directory BUILD='$BUILD' $BUILD_VARS install PREFIX='$tmp/p' \
        SITE=examples/reference.yard" >/dev/null || return 1
    u=$tmp/p/lib/systemd/system
    cp "$u/switchyard@.service" "$u/switchyard@reference.service" &&
        cp "$u/switchyard@.socket" "$u/switchyard@reference.socket" || return 1
    out=$(cd "$u" && systemd-analyze verify switchyard@reference.service \
        switchyard@reference.socket 2>&1) || { echo "$out"; return 1; }
    [ -z "$out" ] || { echo "systemd-analyze verify: $out"; return 1; }
    echo "systemd-analyze verify: switchyard@reference.service and .socket are clean"
    rm -rf "$tmp"
}

# The same tree built in another directory gives the same site binary, byte for byte:
# no path of the build leaks into it.
binary_is_reproducible() {
    local tmp
    tmp=$(mktemp -d) || return 1
    cp -r GNUmakefile runtime compiler grammar examples "$tmp/" || return 1
    eval "make -s --no-print-directory -j2 -C '$tmp' BUILD='$BUILD' $BUILD_VARS \
        '$BUILD/demo/switchyard'" >/dev/null || return 1
    cmp "$BUILD/demo/switchyard" "$tmp/$BUILD/demo/switchyard" ||
        { echo "build/demo/switchyard differs when built in $tmp"; return 1; }
    ! grep -a -q -e "$tmp" -e "$PWD" "$tmp/$BUILD/demo/switchyard" ||
        { echo "a build directory is named in build/demo/switchyard"; return 1; }
    rm -rf "$tmp"
}

# A site of 20,000 generated domains (the generator of the 1,000,000-domain build in
# `make bench`) builds to a binary that routes its names, prints the configuration its
# digest covers, and is the same, table and binary, when built from another directory.
big_site_builds() {
    local tmp d n=20000 name host
    tmp=$(mktemp -d) || return 1
    sh tests/bench/table/gen-domains.sh $n "$tmp/gen" >/dev/null || return 1
    for d in a b; do
        mkdir "$tmp/$d" && cp "$tmp/gen/site.yard" "$tmp/$d/" || return 1
        (cd "$tmp/$d" && "$OLDPWD/$YARDC" -o table.c site.yard) || return 1
        (cd "$tmp/$d" && $CC $LINK_FLAGS -std=c11 -ffile-prefix-map="$tmp/$d=." \
            -I"$OLDPWD/runtime" -c -o table.o table.c &&
            $CC $LINK_FLAGS -o switchyard "$OLDPWD/$BUILD/obj/runtime/main.o" table.o \
                table-data.o "$OLDPWD/$BUILD/libswitchyard.a" $SITE_LIBS) || return 1
    done
    for f in table.c table-data.o switchyard; do
        cmp "$tmp/a/$f" "$tmp/b/$f" || { echo "$f differs between two directories"; return 1; }
    done
    ! grep -a -q -e "$tmp" "$tmp/a/switchyard" || { echo "a build directory is in the binary"; return 1; }
    for name in "$(head -n 1 "$tmp/gen/domains.txt")" "$(sed -n 7777p "$tmp/gen/domains.txt")" \
                "$(sed -n 8p "$tmp/gen/domains.txt")" "$(tail -n 1 "$tmp/gen/domains.txt")"; do
        host=${name/#\*/deep.sub}
        "$tmp/a/switchyard" --resolve www-tls "$host" | grep -qxF "site: $name" ||
            { echo "$host is not routed to $name"; "$tmp/a/switchyard" --resolve www-tls "$host"; return 1; }
    done
    "$tmp/a/switchyard" --resolve www-tls nosuch.example | grep -qx 'action: alert unrecognized_name' ||
        return 1
    "$tmp/a/switchyard" --print-config | cmp - <("$YARDC" --print "$tmp/gen/site.yard") || return 1
    "$tmp/a/switchyard" --version |
        grep -q "sha256:$("$tmp/a/switchyard" --print-config | sha256sum | cut -d' ' -f1)\$" ||
        { echo "--print-config does not match the digest"; return 1; }
    rm -rf "$tmp"
}

# Without root, a missing package stops the build with the exact apt-get line.
missing_package_is_named() {
    local tmp out rc=0
    tmp=$(mktemp -d) || return 1
    chmod 777 "$tmp"
    out=$(env -u MAKEFLAGS -u MAKELEVEL setpriv --reuid=nobody --regid=nogroup --clear-groups \
        make --no-print-directory BUILD="$tmp" PKGS_BUILD="re2c no-such-package-sy" \
        "$tmp/.deps-build" 2>&1) || rc=$?
    rm -rf "$tmp"
    echo "$out"
    [ "$rc" -eq 2 ] && grep -qx '  sudo apt-get install no-such-package-sy' <<<"$out"
}

# `yardc --print` gives the canonical form, which compiles to the same digest and prints
# itself again unchanged.
canonical_form_is_stable() {
    local y tmp d1 d2
    tmp=$(mktemp -d) || return 1
    for y in examples/*.yard; do
        "$YARDC" --print "$y" >"$tmp/c.yard" || return 1
        "$YARDC" --print "$tmp/c.yard" >"$tmp/c2.yard" || return 1
        cmp "$tmp/c.yard" "$tmp/c2.yard" || { echo "$y: --print is not a fixed point"; return 1; }
        "$YARDC" -o "$tmp/a.c" "$y" && "$YARDC" -o "$tmp/b.c" "$tmp/c.yard" || return 1
        d1=$(grep -o '\.digest = "[0-9a-f]*"' "$tmp/a.c")
        d2=$(grep -o '\.digest = "[0-9a-f]*"' "$tmp/b.c")
        [ -n "$d1" ] && [ "$d1" = "$d2" ] || { echo "$y: digest $d1, canonical form $d2"; return 1; }
    done
    rm -rf "$tmp"
}

echo "== unit"
for t in $UNIT_BINS; do
    run "unit $(basename "$t")" "$t"
done

echo "== headers"
run "headers compile on their own" headers_stand_alone

echo "== fuzz corpus replay"
for n in $FUZZ_NAMES; do
    run "replay $n" "$BUILD/replay/fuzz_$n" "tests/fuzz/corpus/$n"
done

echo "== yardc"
[ -x tests/yardc/run.sh ] || [ -f tests/yardc/run.sh ] &&
    run "yardc golden diagnostics" bash tests/yardc/run.sh "$PWD/$YARDC"
run "yardc import" sh tests/yardc/import.sh "$PWD/$YARDC"
[ -f tests/yardc/docs.sh ] && run "yardc documented examples" bash tests/yardc/docs.sh "$PWD/$YARDC"
run "yardc output is deterministic" table_is_deterministic
run "yardc --print compiles to the same digest" canonical_form_is_stable

echo "== build"
run "make install builds a working proxy from the installed files" installed_tree_builds_a_proxy
run "the same .yard built in another directory gives the same binary" binary_is_reproducible
run "a site of 20,000 domains builds, routes and is reproducible" big_site_builds
run "make install gives systemd units that systemd-analyze verify accepts" systemd_units_verify
if [[ $LINK_FLAGS == *-fsanitize* ]]; then
    echo "skip   the CI example (a sanitizer build cannot link statically)"
    skipped=$((skipped + 1))
else
    run "the CI example builds a sample repository of sites" env BUILD="$BUILD" bash tests/ci/ci.sh
fi
if [ "$(id -u)" = 0 ]; then
    run "a missing package is named, not installed, without root" missing_package_is_named
else
    echo "skip   a missing package is named (needs root to run make as another user)"
    skipped=$((skipped + 1))
fi
run "the manual pages name every option, admin command and keyword, and render cleanly" \
    bash tests/build/manpages.sh
run "vim detects and highlights .yard files" bash tests/build/vim.sh
run "make deb is reproducible and installs, works and purges in a throwaway root" \
    env BUILD="$BUILD" CC="$CC" LINK_FLAGS="$LINK_FLAGS" bash tests/build/deb.sh
run "nothing that needs a package is built before the package is installed" \
    env BUILD="$BUILD" bash tests/build/deps.sh

echo "== end to end"
for t in tests/e2e/*.sh; do
    [ -e "$t" ] || continue
    case $(basename "$t") in demo*) continue ;; esac
    # LeakSanitizer (make check) checks at exit from a ptrace()ing clone, which the
    # proxy's system call filter does not allow: the proxies run without it.
    run "e2e $(basename "$t" .sh)" env BUILD="$BUILD" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" bash "$t"
done

# The layer-4 tests again with the relay in the kernel (docs/runtime.md, "Kernel relay"),
# and the WebSocket tunnels it takes over from layer 7.
echo "== end to end, kernel relay"
for t in l4_pool l4_relay l4_route proxy_recv tier_two proc_takeover_load proc_workers \
    l7_tunnel; do
    [ -e "tests/e2e/$t.sh" ] || continue
    run "e2e $t (kernel relay)" env BUILD="$BUILD" SWITCHYARD_RELAY=kernel \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" bash "tests/e2e/$t.sh"
done

echo
if [ $failed -ne 0 ]; then
    printf 'failed: %s\n' "${failures[@]}"
fi
[ $skipped -ne 0 ] && echo "$skipped skipped in whole or in part (skip lines above)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
