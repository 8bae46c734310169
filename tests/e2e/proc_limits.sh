#!/usr/bin/env bash
# maxconn: connections past it wait in the backlog and are served when others end.
# workers 2: both processes serve (SO_REUSEPORT), SIGTERM to the first stops them all.
# Ports: 27543 (maxconn 3) with echo backend 27501; 27593 (2 workers) with echo 27551.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

byte_backend echo 27501 -m echo
byte_backend echo2 27551 -m echo
hello echo.test
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

proxy proc-limits
start "$TOOLS/probe" hold -a 127.0.0.1 -p 27543 -f "$WORK/echo.test.hello" -c 5 -t 30 \
    >"$WORK/hold.out"
HOLD=$LAST_PID
check "5 clients connect to a proxy with maxconn 3" wait_for 10 grep -q '^connected=5$' "$WORK/hold.out"
check "3 reach the backend" wait_for 5 count_is 3 conns echo
sleep 1
check "... and after 1 s still only 3: the others wait" test "$(conns echo)" -eq 3
check "the proxy holds exactly 3 connections: 6 sockets and its listening one" \
    test "$(find /proc/$PROXY_PID/fd -lname "socket:*" | wc -l)" -eq 7
kill -TERM "$HOLD"
check "the holding client got 3 echoes" wait_for 5 grep -q '^echoed=3$' "$WORK/hold.out"
check "the two that waited are served once the first ones end" wait_for 10 count_is 5 conns echo
check "a new client is served" c -a 127.0.0.1 -p 27543 -n echo.test -u 1000
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0

: >"$PROXY_LOG"
proxy proc-workers
check "workers 2: two worker processes under the first" \
    wait_for 5 count_is 2 children "$PROXY_PID"
WORKERS=$(ps -o pid= --ppid "$PROXY_PID" | tr -d ' ' | tr '\n' ' ')
check "both log that they started" wait_for 5 count_is 2 grep -c ' started' "$PROXY_LOG"
fails=0
for i in $(seq 1 40); do
    c -a 127.0.0.1 -p 27593 -n echo.test -u 100 || fails=$((fails + 1))
done
check "40 connections served, $fails failed" test "$fails" -eq 0
check "... all 40 logged" wait_for 5 count_is 40 grep -c 'sni=echo\.test .*term=--' "$PROXY_LOG"
odd=$(grep -cE ' conn=[0-9]*[13579] ' "$PROXY_LOG" || true)
check "both workers served some (worker 1: odd ids, worker 2: even ids; $odd odd of 40)" \
    test "$odd" -gt 0 -a "$odd" -lt 40
stop_proxy
check "SIGTERM to the first process: it exits 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
alive=0
for w in $WORKERS; do kill -0 "$w" 2>/dev/null && alive=$((alive + 1)); done
check "... and no worker is left" test "$alive" -eq 0
check "the port is closed" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/27593) 2>/dev/null"
finish
