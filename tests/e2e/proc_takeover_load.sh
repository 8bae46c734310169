#!/usr/bin/env bash
# Binary swaps under load: ten `--takeover` swaps about 1.2 s apart while 8 clients open a
# new connection for each request (`Connection: close`) to an http listener and 4 more do
# the same with a ClientHello to a tls listener. Every exchange is counted from the client
# side: none may fail (no reset, no close without an answer), and every old process exits 0.
# Ports: 28380 (http), 28343 (tls), HTTP backend 28301, echo backend 28302.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-proc-swap.sock
SWAPS=${SWAPS:-10}
rm -f "$SOCK"
start "$TOOLS/httpd" -n swap -p 28301 -t 300
wait_for 10 tcp_open ::1 28301 || { not_ok "httpd on [::1]:28301 starts"; exit 1; }
byte_backend echo 28302 -m echo
hello echo.test
printf 'GET /x HTTP/1.1\r\nHost: swap.test\r\nConnection: close\r\n\r\n' >"$WORK/req"
proxy proc-swap
OLDS=("$PROXY_PID")
LOGS=("$PROXY_LOG")

secs=$((SWAPS * 3 / 2 + 4))
hammers 28380 8 28343 4 "$secs"
sleep 1

swapped=0
for n in $(seq 1 "$SWAPS"); do
    log=$WORK/swap.$n.log
    start "$BUILD/proc-swap/switchyard" --takeover "$SOCK" 2>"$log"
    OLDS+=("$LAST_PID")
    LOGS+=("$log")
    PROXY_LOG=$log
    wait_for 10 grep -q 'takeover: the old process stopped accepting' "$log" || break
    swapped=$n
    sleep 1.2
done
check "$SWAPS swaps under load, each acknowledged by the old process ($swapped done)" \
    test "$swapped" -eq "$SWAPS"

hammers_check 8 4

last=${OLDS[-1]}
bad=0
for p in "${OLDS[@]:0:${#OLDS[@]}-1}"; do
    wait_for 15 sh -c "! kill -0 $p 2>/dev/null" || { bad=1; continue; }
    rc=0; wait "$p" || rc=$?
    [ "$rc" -eq 0 ] || bad=1
done
check "every replaced process drained and exited 0" test "$bad" = 0
check "the last one serves" sh -c "'$TOOLS/probe' hammer -H -a 127.0.0.1 -p 28380 \
    -f '$WORK/req' -c 3 | grep -qx 'ok=3 fail=0'"
PROXY_PID=$last
stop_proxy
check "the last process exits 0 on SIGTERM (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
