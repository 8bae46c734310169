#!/usr/bin/env bash
# A static binary (make static) needs nothing but itself: copied alone into an empty
# directory and run chrooted there as root, it drops to numeric ids (no /etc in there),
# routes to a backend on [::1] and logs; a binary that chroots itself resolves user and
# group names from the files before the chroot. Skipped (ok) when not root, or in a
# sanitizer build (those cannot link statically). Ports 29143, 29144, backend 29101.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

need_root "chroot needs root"
need_static
jail /tmp/switchyard-e2e-static-jail
nobody=$(id -u nobody)
nogroup=$(getent group nogroup | cut -d: -f3)
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
status() { grep "^$1:" "/proc/$PROXY_PID/status" | tr -s '\t ' ' ' | sed 's/ *$//'; }

for s in static-ids static-names; do
    bin=$BUILD/$s/static/switchyard
    check "$s: file says statically linked" sh -c "file '$bin' | grep -q 'statically linked'"
    check "$s: ldd says not dynamic" sh -c "ldd '$bin' 2>&1 | grep -q 'not a dynamic executable'"
done
check "a Unicode name in --resolve: the static binary says to give A-labels" \
    sh -c "'$BUILD/static-ids/static/switchyard' --resolve tls bücher.test 2>&1 |
        grep -q 'static binary cannot load; give the name in A-labels'"
byte_backend echo 29101 -m echo

# Alone in the directory, chrooted from outside: ids as numbers.
cp "$BUILD/static-ids/static/switchyard" "$JAIL/switchyard"
start chroot "$JAIL" /switchyard 2>"$PROXY_LOG"
PROXY_PID=$LAST_PID
wait_for 10 grep -q ' started' "$PROXY_LOG" || { not_ok "static-ids starts in $JAIL"; exit 1; }
check "ids: uid 65534 ($(status Uid))" test "$(status Uid)" = "Uid: 65534 65534 65534 65534"
check "ids: gid 65534 ($(status Gid))" test "$(status Gid)" = "Gid: 65534 65534 65534 65534"
check "ids: root directory is the jail" test "$(readlink "/proc/$PROXY_PID/root")" = "$JAIL"
check "ids: it routes by SNI" c -a ::1 -p 29143 -n echo.test -u 10000
check "ids: and logs the connection" log_has 'sni=echo\.test .*term=--$'
stop_proxy
check "ids: SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0

# Copied alone into the directory its configuration chroots to: names from the files.
rm -f "$JAIL/switchyard"
cp "$BUILD/static-names/static/switchyard" "$JAIL/switchyard"
: >"$PROXY_LOG"
start "$JAIL/switchyard" 2>"$PROXY_LOG"
PROXY_PID=$LAST_PID
wait_for 10 grep -q ' started' "$PROXY_LOG" || { not_ok "static-names starts"; exit 1; }
check "names: uid nobody ($(status Uid))" test "$(status Uid)" = "Uid: $nobody $nobody $nobody $nobody"
check "names: gid nogroup ($(status Gid))" \
    test "$(status Gid)" = "Gid: $nogroup $nogroup $nogroup $nogroup"
check "names: supplementary groups: only nogroup" test "$(status Groups)" = "Groups: $nogroup"
check "names: root directory is the jail" test "$(readlink "/proc/$PROXY_PID/root")" = "$JAIL"
check "names: it routes by SNI" c -a ::1 -p 29144 -n echo.test -u 10000
stop_proxy
check "names: SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
check "the directory holds the binary and nothing else" test "$(ls -A "$JAIL")" = switchyard
finish
