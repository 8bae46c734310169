#!/usr/bin/env bash
# The supervisor of `workers 2`: a worker killed (SIGKILL, or SIGSYS from the system call
# filter) is restarted, logged, and serves (the new first worker serves the admin socket);
# more than 5 deaths in 60 s stop everything with exit 1. A supervisor killed takes its
# workers with it (PR_SET_PDEATHSIG), and a worker told to drain after that signals no
# one else: run in a PID namespace whose init records any SIGTERM it gets.
# Ports: 27953, echo backend 27951.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-proc-supervise.sock
rm -f "$SOCK"
byte_backend echo 27951 -m echo
proxy proc-supervise
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
worker() { ps -o pid= --ppid "$PROXY_PID" | tr -d ' ' | sed -n "$1p"; }
admin_pid() { "$TOOLS/probe" admin "$SOCK" 'show info' | grep -qx "Pid: $1"; }
served_by_even() {   # worker 1 numbers its connections 2, 4, ...: served since line $1
    for i in 1 2 3 4 5 6 7 8 9 10; do c -a 127.0.0.1 -p 27953 -n echo.test -u 100 || return 1; done
    tail -n +"$1" "$PROXY_LOG" | grep -Eq ' conn=[0-9]*[02468] .*term=--'
}

check "two workers" wait_for 5 count_is 2 children "$PROXY_PID"
W0=$(worker 1)
W1=$(worker 2)
check "the workers run under the system call filter" \
    grep -q '^Seccomp:[[:space:]]*2' "/proc/$W0/status" "/proc/$W1/status"

kill -KILL "$W1"
check "a worker killed with SIGKILL is restarted, and that is logged" \
    log_has "worker 1 \\(pid $W1\\) killed by signal 9 \\(Killed\\): restarted as pid [0-9]+"
NEW1=$(sed -n "s/.*worker 1 (pid $W1) .*restarted as pid \\([0-9]*\\).*/\\1/p" "$PROXY_LOG")
check "... two workers again, the new one ($NEW1) among them" \
    wait_for 5 sh -c "ps -o pid= --ppid $PROXY_PID | grep -qw '$NEW1'"
from=$(wc -l <"$PROXY_LOG")
check "... and it serves (even connection ids)" wait_for 10 served_by_even "$from"

"$TOOLS/inject" "$W0" >"$WORK/inject.out" 2>&1 || true
if grep -q unsupported "$WORK/inject.out"; then
    ok "# SKIP no call injected outside the allow-list on $(uname -m)"
else
    check "a worker making a call outside the allow-list is killed (SIGSYS) and restarted" \
        log_has "worker 0 \\(pid $W0\\) killed by signal 31 \\(Bad system call: a system call outside the allow-list\\): restarted as pid [0-9]+"
    NEW0=$(sed -n "s/.*worker 0 (pid $W0) .*restarted as pid \\([0-9]*\\).*/\\1/p" "$PROXY_LOG")
    check "... the new first worker ($NEW0) serves the admin socket" wait_for 5 admin_pid "$NEW0"
fi
check "the port still serves" c -a 127.0.0.1 -p 27953 -n echo.test -u 100

# Too many deaths: 5 restarts in 60 s (2 so far), the next death stops everything.
for n in 1 2 3 4; do
    w=$(worker 2)
    [ -n "$w" ] && kill -KILL "$w"
    wait_for 5 sh -c "! kill -0 $w 2>/dev/null; ps -o pid= --ppid $PROXY_PID | grep -vqw '$w'" || true
    wait_for 5 count_is 2 children "$PROXY_PID" || true
done
check "the sixth death in a minute stops the supervisor" \
    log_has 'killed by signal 9 \(Killed\): 5 restarts in 60 s, stopping'
rc=0
wait_for 10 sh -c "! kill -0 $PROXY_PID 2>/dev/null" || rc=timeout
[ "$rc" = timeout ] || wait "$PROXY_PID" || rc=$?
check "... with exit status 1 (got $rc)" test "$rc" = 1
check "... and no worker left" test "$(children "$PROXY_PID")" -eq 0

# The supervisor killed, inside a PID namespace whose init (a shell) records SIGTERM.
if ! unshare -pf --mount-proc true 2>/dev/null; then
    ok "# SKIP no PID namespace (unshare -p): supervisor death not tested"
    finish
fi
: >"$PROXY_LOG"
rm -f "$SOCK"
start unshare -pf --mount-proc bash -c '
    trap "echo SIGTERM >>\"$1/init.signals\"" TERM
    "$2" 2>>"$3" &
    while :; do wait; sleep 0.1; done' _ "$WORK" "$BUILD/proc-supervise/switchyard" "$PROXY_LOG"
NS=$LAST_PID
wait_for 10 count_is 2 grep -c ' started' "$PROXY_LOG" || { not_ok "supervisor in a PID namespace starts"; exit 1; }
INIT=$(ps -o pid= --ppid "$NS" | tr -d ' ')
SUP=$(ps -o pid= --ppid "$INIT" | tr -d ' ')
WORKERS=$(ps -o pid= --ppid "$SUP" | tr -d ' ' | tr '\n' ' ')
# A client holds a connection open, so that the drain lasts (timeout grace 2s).
start "$TOOLS/client" -a 127.0.0.1 -p 27953 -n echo.test -u 100 -w 8000 -t 20 >/dev/null
sleep 0.5
kill -KILL "$SUP"
"$TOOLS/probe" admin "$SOCK" _drain >"$WORK/drain.out" 2>&1 || true
gone() { for w in $WORKERS; do kill -0 "$w" 2>/dev/null && return 1; done; return 0; }
check "the supervisor killed: its workers ($WORKERS) exit within the grace period" wait_for 6 gone
check "... and nothing signalled the namespace's init" test ! -e "$WORK/init.signals"
kill -KILL "$INIT" 2>/dev/null || true     # the namespace's init: everything in it goes
finish
