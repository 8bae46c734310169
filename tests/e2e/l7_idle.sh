#!/usr/bin/env bash
# At maxconn, the keep-alive client that has waited idle the longest is closed to admit a
# new one (tests/e2e/l7-idle.yard: maxconn 3, timeout client 20s).
# Run from the repository root: BUILD=build bash tests/e2e/l7_idle.sh
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

P=127.0.0.1
PORT=25380

start "$TOOLS/httpd" -n one -p 25351 -t 60 2>>"$WORK/backend.err"
wait_for 10 tcp_open ::1 25351 || { not_ok "httpd on [::1]:25351 starts"; exit 1; }
proxy l7-idle

# ask FD PATH: one keep-alive request on descriptor FD; its answer is read (0.5 s) into
# $WORK/FD.out, and the connection stays open.
ask() {
    printf 'GET %s HTTP/1.1\r\nHost: one.test\r\n\r\n' "$2" >&"$1"
    timeout 0.5 cat <&"$1" >"$WORK/$1.out" || true
}
exec 5<>"/dev/tcp/$P/$PORT"
ask 5 /first
exec 6<>"/dev/tcp/$P/$PORT"
ask 6 /second
exec 7<>"/dev/tcp/$P/$PORT"
ask 7 /third
check "three keep-alive clients answered" \
    test "$(cat "$WORK"/5.out "$WORK"/6.out "$WORK"/7.out | grep -c '^HTTP/1.1 200')" -eq 3

t0=$(date +%s%N)
out=$(curl -s --max-time 10 "http://$P:$PORT/fourth" -H 'Host: one.test' || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a fourth client at maxconn 3 is served" grep -q 'path=/fourth' <<<"$out"
check "... promptly (${ms} ms, timeout client 20 s)" test "$ms" -lt 3000

t0=$(date +%s%N)
rc=0
got=$(timeout 3 cat <&5 2>&1) || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the oldest idle client sees a clean close (EOF, no reset, rc=$rc, ${ms} ms)" \
    test "$rc" -eq 0 -a -z "$got" -a "$ms" -lt 2000
rc=0
timeout 0.5 cat <&7 >/dev/null 2>&1 || rc=$?
check "the newest idle client is still open" test "$rc" -eq 124
ask 7 /again
check "... and is served on its connection" grep -q 'path=/again' "$WORK/7.out"
exec 5<&- 6<&- 7<&-

stop_proxy
check "proxy exits 0 on SIGTERM" test "$PROXY_RC" = 0
check "no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$PROXY_LOG"'
finish
