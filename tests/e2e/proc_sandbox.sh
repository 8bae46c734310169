#!/usr/bin/env bash
# The sandbox. The system call filter is on (Seccomp: 2, NoNewPrivs: 1) and a call outside
# it kills the process with SIGSYS (made with ptrace, tests/e2e/tools/inject.c). As root, with
# a chroot: no descriptor of a directory outside the chroot stays open, syslog reconnects
# inside the chroot after its daemon restarts, the admin socket outside the chroot is left
# at exit and replaced by the next start; chroot or group without user is refused.
# Ports: 27753, echo backend 27751.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

need_root "chroot and user need root"
JAIL=/tmp/switchyard-e2e-proc-jail2
ADMIN_DIR=/tmp/switchyard-e2e-proc-sandbox
SOCK=$ADMIN_DIR/admin.sock
rm -rf "$JAIL" "$ADMIN_DIR"
mkdir -m 755 "$JAIL" "$JAIL/dev" "$ADMIN_DIR"
trap 'rm -rf "$JAIL" "$ADMIN_DIR"; cleanup' EXIT
SYSLOG=$WORK/syslog.1

byte_backend echo 27751 -m echo
start "$TOOLS/probe" syslog "$JAIL/dev/log" >"$SYSLOG"
SYSLOGD=$LAST_PID
wait_for 5 test -S "$JAIL/dev/log" || { not_ok "syslog socket"; exit 1; }
proxy proc-sandbox
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
status() { grep "^$1:" "/proc/$PROXY_PID/status" | tr -s '\t ' ' ' | sed 's/ *$//'; }

check "the system call filter is on ($(status Seccomp))" test "$(status Seccomp)" = "Seccomp: 2"
check "... with no new privileges ($(status NoNewPrivs))" test "$(status NoNewPrivs)" = "NoNewPrivs: 1"
check "it serves under the filter" c -a 127.0.0.1 -p 27753 -n echo.test -u 100000
check "... and logs to syslog inside the chroot" \
    wait_for 5 grep -q 'sni=echo\.test .*term=--' "$SYSLOG"
admin_pid() { "$TOOLS/probe" admin "$SOCK" 'show info' | grep -qx "Pid: $PROXY_PID"; }
check "the admin socket outside the chroot answers" admin_pid

dirs=
for f in /proc/"$PROXY_PID"/fd/*; do
    [ -d "$f" ] && dirs="$dirs $(readlink "$f")"
done
check "no descriptor of a directory is open:${dirs:- none}" test -z "$dirs"

# The syslog daemon restarts: a new socket at the same path. The proxy reconnects at most
# once a second, by the path as seen inside the chroot (/dev/log).
kill "$SYSLOGD"
wait "$SYSLOGD" 2>/dev/null || true
SYSLOG=$WORK/syslog.2
start "$TOOLS/probe" syslog "$JAIL/dev/log" >"$SYSLOG"
wait_for 5 test -S "$JAIL/dev/log" || { not_ok "syslog socket again"; exit 1; }
reconnected() {
    c -a 127.0.0.1 -p 27753 -n echo.test -u 10 && sleep 0.3 && grep -q 'sni=echo\.test' "$SYSLOG"
}
check "after the syslog daemon restarts, lines reach it again" wait_for 8 reconnected

stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
check "the admin socket outside the chroot is left at exit" test -S "$SOCK"
proxy proc-sandbox
check "... and the next start replaces it" admin_pid

# A system call outside the allow-list: execve("/bin/sh"), made by the proxy itself (ptrace).
"$TOOLS/inject" "$PROXY_PID" >"$WORK/inject.out" 2>&1 || true
if grep -q unsupported "$WORK/inject.out"; then
    ok "# SKIP no call injected outside the allow-list on $(uname -m)"
    stop_proxy
else
    rc=0
    wait_for 10 sh -c "! kill -0 $PROXY_PID 2>/dev/null" || rc=timeout
    [ "$rc" = timeout ] || wait "$PROXY_PID" || rc=$?
    check "execve() outside the allow-list kills the process: $(cat "$WORK/inject.out")" \
        grep -qx 'signal=31' "$WORK/inject.out"
    check "... its exit status says SIGSYS (got $rc, 128 + 31)" test "$rc" = 159
fi

rc=0
timeout 10 "$BUILD/proc-nouser/switchyard" 2>"$WORK/nouser.err" || rc=$?
check "chroot and group without user: refused as root, exit 1 (got $rc)" test "$rc" = 1
check "... saying why" grep -q 'chroot without user: the process would stay root' "$WORK/nouser.err"
check "... before leaving the chroot directory as it was" test -z "$(ls -A "$JAIL" | grep -v '^dev$')"
finish
