#!/usr/bin/env bash
# Descriptor exhaustion: a small `ulimit -n` lowers maxconn (two descriptors per connection)
# so that extra clients wait in the backlog; descriptors taken away while running (EMFILE
# on accept) pause the listeners without spinning; both recover once descriptors free up.
# Ports: 27443 (tls), echo backend 27401 (site proc-robust).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

byte_backend echo 27401 -m echo
hello echo.test
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

# -- ulimit -n 64 at start: maxconn (64 - 32 reserved - 3 listening sockets) / 2 = 14 --
proxy_ulimit 64 proc-robust
check "a small descriptor limit lowers maxconn, with a warning" \
    log_has 'maxconn 1000 lowered to 14: descriptor limit 64'
start "$TOOLS/probe" hold -a 127.0.0.1 -p 27443 -f "$WORK/echo.test.hello" -c 40 -t 30 \
    >"$WORK/hold1.out"
HOLD=$LAST_PID
check "40 clients connect (the backlog takes those past maxconn)" \
    wait_for 10 grep -q '^connected=40$' "$WORK/hold1.out"
check "14 of them reach the backend" wait_for 5 count_is 14 conns echo
cpu0=$(cpu_ms "$PROXY_PID")
sleep 2
cpu1=$(cpu_ms "$PROXY_PID")
check "saturated, the proxy does not spin: $((cpu1 - cpu0)) ms CPU in 2 s" test $((cpu1 - cpu0)) -lt 200
check "... and still no more than 14 reached the backend" test "$(conns echo)" -eq 14
kill -TERM "$HOLD"
check "the holding client got exactly 14 echoes" wait_for 5 grep -q '^echoed=14$' "$WORK/hold1.out"
check "the clients that waited in the backlog are served once the first ones end" \
    wait_for 10 count_is 40 conns echo
check "a new client is served" c -a 127.0.0.1 -p 27443 -n echo.test -u 1000
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0

# -- descriptors taken away while running: accept, or the server socket of a connection
# just accepted, fails with EMFILE. Run at two limits: which of the two runs out first
# depends on whether the descriptors left are even or odd. --
out_of_fds() {
    local limit=$1 base served cpu0 cpu1
    base=$(conns echo)
    proxy proc-robust
    prlimit --pid "$PROXY_PID" --nofile="$limit:$limit"
    start "$TOOLS/probe" hold -a 127.0.0.1 -p 27443 -f "$WORK/echo.test.hello" -c 40 -t 30 \
        >"$WORK/hold2.out"
    HOLD=$LAST_PID
    check "[$limit] 40 clients connect" wait_for 10 grep -q '^connected=40$' "$WORK/hold2.out"
    check "[$limit] out of descriptors: one warning" \
        log_has '(accept|socket): Too many open files: pausing listeners'
    check "[$limit] maxconn follows the lowered limit" \
        log_has "maxconn 1000 lowered to [0-9]+: descriptor limit $limit"
    served=$(($(conns echo) - base))
    cpu0=$(cpu_ms "$PROXY_PID")
    sleep 2
    cpu1=$(cpu_ms "$PROXY_PID")
    check "[$limit] out of descriptors, the proxy does not spin: $((cpu1 - cpu0)) ms CPU in 2 s" \
        test $((cpu1 - cpu0)) -lt 200
    check "[$limit] ... logs the shortage once, not once per pause" \
        test "$(grep -c 'pausing listeners' "$PROXY_LOG")" -eq 1
    check "[$limit] ... serves what it holds ($served connections)" test "$served" -gt 5
    check "[$limit] ... and leaves the rest in the backlog: at most one accepted client failed" \
        test "$(grep -c 'err=socket:EMFILE' "$PROXY_LOG")" -le 1
    kill -TERM "$HOLD"
    check "[$limit] the proxy accepts again once descriptors are free" \
        log_has 'accepting again after [0-9]+ pauses'
    check "[$limit] a new client is served" wait_for 10 c -a 127.0.0.1 -p 27443 -n echo.test -u 1000
    check "[$limit] the proxy is still running" kill -0 "$PROXY_PID"
    stop_proxy
    check "[$limit] SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
}
out_of_fds 40
out_of_fds 41
finish
