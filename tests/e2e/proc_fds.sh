#!/usr/bin/env bash
# Descriptor exhaustion: a small `ulimit -n` lowers maxconn (two descriptors per connection)
# so that extra clients wait in the backlog; descriptors taken away while running (EMFILE
# on accept) pause the listeners without spinning; both recover once descriptors free up.
# Ports: 27443 (tls), 27480 (http), echo backend 27401, http backend 27402 (site
# proc-robust).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

byte_backend echo 27401 -m echo
hello echo.test
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

# -- ulimit -n 64 at start: 64 - 32 reserved - 3 listening sockets = 29 descriptors hold 11
# connections (2 sockets each) and 3 pipes (one per 4 connections, 2 descriptors each) --
proxy_ulimit 64 proc-robust
check "a small descriptor limit lowers maxconn, with a warning" \
    log_has 'maxconn 1000 lowered to 11: descriptor limit 64'
start "$TOOLS/probe" hold -a 127.0.0.1 -p 27443 -f "$WORK/echo.test.hello" -c 40 -t 30 \
    >"$WORK/hold1.out"
HOLD=$LAST_PID
check "40 clients connect (the backlog takes those past maxconn)" \
    wait_for 10 grep -q '^connected=40$' "$WORK/hold1.out"
check "11 of them reach the backend" wait_for 5 count_is 11 conns echo
cpu0=$(cpu_ms "$PROXY_PID")
sleep 2
cpu1=$(cpu_ms "$PROXY_PID")
check "saturated, the proxy does not spin: $((cpu1 - cpu0)) ms CPU in 2 s" test $((cpu1 - cpu0)) -lt 200
check "... and still no more than 11 reached the backend" test "$(conns echo)" -eq 11
kill -TERM "$HOLD"
check "the holding client got exactly 11 echoes" wait_for 5 grep -q '^echoed=11$' "$WORK/hold1.out"
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

# -- layer 7: one descriptor left; the client that takes it gets a 503, not a hang --
start "$TOOLS/httpd" -n web -p 27402 -t 60 2>>"$WORK/httpd.err"
wait_for 10 tcp_open ::1 27402 || { not_ok "httpd on [::1]:27402 starts"; exit 1; }
web() { curl -s -o "$WORK/web.body" -w '%{http_code}' -m 5 -H 'Host: web.test' "$@"; }
proxy proc-robust
# /close: the server ends the body by closing, so no idle server connection stays pooled
# (one would give its descriptor up to the request below).
check "the http listener serves before" test "$(web http://127.0.0.1:27480/close)" = 200
sleep 0.2                               # its connections closed: descriptors settle
# The limit that leaves exactly one descriptor number free below it: the second lowest
# free number (descriptors inherited from the test's shell may leave holes).
declare -A used
for f in $(find "/proc/$PROXY_PID/fd" -mindepth 1 -printf '%f\n'); do used[$f]=1; done
lowest=0
while [ -n "${used[$lowest]:-}" ]; do lowest=$((lowest + 1)); done
limit=$((lowest + 1))
while [ -n "${used[$limit]:-}" ]; do limit=$((limit + 1)); done
prlimit --pid "$PROXY_PID" --nofile=$limit:
check "the client that took the last descriptor ($lowest, limit $limit) gets 503" \
    test "$(web http://127.0.0.1:27480/)" = 503
check "... from the built-in page" grep -q '503' "$WORK/web.body"
check "... logged with why" log_has 'status=503 .*err=socket'
# (accept4 takes a descriptor before looking at the queue: the accept after the client's
# finds none, so the episode may begin there.)
check "the shortage pauses the listeners" \
    log_has '(accept|socket): Too many open files: pausing listeners'
check "maxconn follows the limit down" log_has "lowered to 1: descriptor limit $limit"
hard=$(awk '/^Max open files/ { print $5 }' "/proc/$PROXY_PID/limits")
soft=4096
[ "$hard" != unlimited ] && [ "$hard" -lt $soft ] && soft=$hard
prlimit --pid "$PROXY_PID" --nofile=$soft:
check "with descriptors back, a client is served" wait_for 5 test "$(web http://127.0.0.1:27480/)" = 200
check "... and the listeners say so" log_has 'accepting again after [0-9]+ pauses'
for i in 1 2 3 4; do start curl -s -o /dev/null -w '%{http_code}\n' -m 5 -H 'Host: web.test' \
    http://127.0.0.1:27480/sleep/300 >>"$WORK/parallel.out"; done
check "4 clients at once are all served" wait_for 5 count_is 4 grep -c '^200$' "$WORK/parallel.out"
check "maxconn came back with the limit" log_has "maxconn raised to [0-9]+: descriptor limit $soft"
check "the proxy is still running" kill -0 "$PROXY_PID"
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
