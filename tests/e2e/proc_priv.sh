#!/usr/bin/env bash
# Privilege drop: started as root with user nobody, group nogroup and a chroot into an
# empty directory, the proxy binds first, then runs as 65534:65534 inside the directory,
# and still serves. Skipped (ok) when not run as root. Ports: 27743, echo backend 27701.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

need_root "chroot and user need root"
# LeakSanitizer (make check) reads /proc at exit, which the chroot hides.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
jail /tmp/switchyard-e2e-proc-jail
uid=$(id -u nobody)
gid=$(getent group nogroup | cut -d: -f3)

byte_backend echo 27701 -m echo
proxy proc-priv
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
status() { grep "^$1:" "/proc/$PROXY_PID/status" | tr -s '\t ' ' ' | sed 's/ *$//'; }
check "real, effective, saved and fs uid are nobody ($(status Uid))" \
    test "$(status Uid)" = "Uid: $uid $uid $uid $uid"
check "gids are nogroup ($(status Gid))" test "$(status Gid)" = "Gid: $gid $gid $gid $gid"
check "supplementary groups: only nogroup ($(status Groups))" test "$(status Groups)" = "Groups: $gid"
check "root directory is the chroot" test "$(readlink "/proc/$PROXY_PID/root")" = "$JAIL"
check "no capabilities left" grep -q '^CapEff:[[:space:]]*0*$' "/proc/$PROXY_PID/status"
check "it serves on the ports bound as root" \
    c -a 127.0.0.1 -p 27743 -n echo.test -u 10000
check "... also over IPv6" c -a ::1 -p 27743 -n echo.test -u 10000
check "... and logs the connections" log_has 'sni=echo\.test .*term=--$'
check "the chroot directory is still empty" test -z "$(ls -A "$JAIL")"
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
