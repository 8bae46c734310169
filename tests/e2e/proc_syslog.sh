#!/usr/bin/env bash
# Syslog: RFC 3164 datagrams on unix sockets the test creates, PRI = facility * 8 + level,
# each target's least severe level honoured. dontlognull: silent connections leave no line.
# Grace: a connection still open when `timeout grace` ends is closed and logged; exit 0.
# Ports: 27643 (tls), 27680 (http), echo backend 27601.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

INFO_SOCK=/tmp/switchyard-e2e-proc-info.sock
NOTICE_SOCK=/tmp/switchyard-e2e-proc-notice.sock
INFO=$WORK/info.log
NOTICE=$WORK/notice.log
byte_backend echo 27601 -m echo
start "$TOOLS/probe" syslog "$INFO_SOCK" >"$INFO"
start "$TOOLS/probe" syslog "$NOTICE_SOCK" >"$NOTICE"
wait_for 5 test -S "$INFO_SOCK" -a -S "$NOTICE_SOCK" || { not_ok "syslog sockets"; exit 1; }
PROXY_LOG=$INFO
start "$BUILD/proc-syslog/switchyard" 2>"$WORK/stderr"
PROXY_PID=$LAST_PID
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

# <PRI>Mmm dd hh:mm:ss switchyard[pid]: <ISO time> <message> (RFC 3164 §4.1)
head="switchyard\[$PROXY_PID\]: 20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}\.[0-9]{3}Z"
stamp='[A-Z][a-z]{2} [ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]'
check "local3 info target: the start line at notice, PRI 19 * 8 + 5 = 157" \
    wait_for 5 grep -Eq "^<157>$stamp $head switchyard .* started" "$INFO"
check "local5 notice target: the same line with PRI 21 * 8 + 5 = 173" \
    wait_for 5 grep -Eq "^<173>$stamp $head switchyard .* started" "$NOTICE"
check "nothing on stderr" test ! -s "$WORK/stderr"

check "a connection through the proxy" c -a 127.0.0.1 -p 27643 -n echo.test -u 100
check "... logged at info: PRI 19 * 8 + 6 = 158, the whole line as on stderr" \
    wait_for 5 grep -Eq "^<158>$stamp $head conn=1 client=127\.0\.0\.1:[0-9]+ listener=front sni=echo\.test site=echo\.test server=\[::1\]:27601 c2s=[0-9]+ s2c=[0-9]+ inspect=[0-9]+ connect=[0-9]+ total=[0-9]+ term=--$" "$INFO"
check "the notice target does not get info lines" test "$(grep -c 'conn=' "$NOTICE" || true)" -eq 0
check "one datagram per line, no newline inside (every line starts with <PRI>)" \
    test "$(grep -vc '^<' "$INFO" || true)" -eq 0

check "dontlognull (tls): a client that sends nothing is closed" \
    c -a 127.0.0.1 -p 27643 -m silent -t 10
tcp_open 127.0.0.1 27680       # dontlognull (http): connects and closes at once
curl -s -o /dev/null --max-time 5 -H 'Host: echo.test' http://127.0.0.1:27680/x || true
check "... the http request is logged" wait_for 5 grep -q 'l7 .*host=echo\.test' "$INFO"
sleep 0.5
check "... and those that sent nothing are not: 2 connection lines in all" \
    test "$(grep -cE 'conn=[0-9]+ ' "$INFO")" -eq 2

# -- grace: a connection still open after `timeout grace` (1 s) is closed and logged --
start "$TOOLS/client" -a 127.0.0.1 -p 27643 -n echo.test -u 100 -w 8000 -t 20 >/dev/null
LONG=$LAST_PID
wait_for 5 test -e "$WORK/echo/3.accepted"
t0=$(date +%s%N)
stop_proxy
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM with a connection open: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
check "... after the grace period of 1 s ($ms ms)" test "$ms" -ge 900 -a "$ms" -lt 3000
check "... logged the grace period's end" grep -q 'grace period over: closing 1 connections' "$INFO"
check "... and the connection it closed (term=PD err=shutdown)" \
    grep -Eq 'conn=[0-9]+ .*sni=echo\.test .*term=PD err=shutdown$' "$INFO"
if wait "$LONG"; then not_ok "the client saw its connection cut"; else ok "the client saw its connection cut"; fi
check "the exit line reaches syslog" grep -q 'exiting, 0 log lines dropped' "$NOTICE"
finish
