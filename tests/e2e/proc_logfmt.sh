#!/usr/bin/env bash
# Log formats: JSON access lines (parsed by jq) with the fields of the text line for a TLS
# connection and an HTTP request; syslog over UDP as RFC 3164 and RFC 5424 datagrams; the
# journald priority prefix on stderr when JOURNAL_STREAM names stderr's file, and none when
# it names another; `log off` (traffic passes, no line) and `log sample 1/3` (the 1st and
# the 4th of six requests). Ports: tests/e2e/proc-logfmt.yard.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise
if ! command -v jq >/dev/null; then
    ok "# SKIP jq is not installed (make test installs it: PKGS_TEST)"
    finish
fi

U3164=$WORK/udp3164.log
U5424=$WORK/udp5424.log
ERR=$WORK/stderr
PROXY_LOG=$ERR
byte_backend echo 27301 -m echo
start "$BUILD/tools/httpd" -n web -p 27302 -t 60
start "$TOOLS/probe" udp -a 127.0.0.1 -p 27310 >"$U3164"
U3164_PID=$LAST_PID
start "$TOOLS/probe" udp -a ::1 -p 27311 >"$U5424"
U5424_PID=$LAST_PID
udp_bound() { ss -Hunl | grep -q "$1"; }
wait_for 10 udp_bound 127.0.0.1:27310 && wait_for 10 udp_bound '\[::1\]:27311' &&
    wait_for 10 tcp_open ::1 27302 || { not_ok "receivers and backends start"; exit 1; }

: >"$ERR"
journal=$(stat -c '%d:%i' "$ERR")
start env JOURNAL_STREAM="$journal" "$BUILD/proc-logfmt/switchyard" 2>>"$ERR"
PROXY_PID=$LAST_PID
check "started" wait_for 5 grep -q 'started' "$ERR"

# -- traffic --
tls_once() { "$TOOLS/client" -a 127.0.0.1 -p 27343 -n echo.test -u 100 >/dev/null; }
check "a TLS connection through the json listener" tls_once
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: echo.test' \
    'http://127.0.0.1:27380/json/path?q=1')
check "an HTTP request through the json listener: 200 (got $code)" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: echo.test' \
    'http://127.0.0.1:27381/quiet')
check "log off: the request passes (got $code)" test "$code" = 200
for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null --max-time 5 -H 'Host: echo.test' "http://127.0.0.1:27382/s$i" || true
done
# Lines go out in order: once /s4's is there, all before it are.
check "sampled lines arrive" wait_for 5 grep -q 'path=/s4 ' "$ERR"
check "... and on both UDP targets" \
    wait_for 5 sh -c "grep -q 'path=/s4 ' '$U3164' && grep -q 'path=/s4 ' '$U5424'"

# -- journald: "<N>" first, N the syslog severity (sd-daemon(3)) --
check "journald: every stderr line starts with <N>" test "$(grep -vcE '^<[0-7]>' "$ERR")" -eq 0
check "... the start line at notice: <5>" grep -qE '^<5>20[0-9-]{8}T[0-9:.]{12}Z switchyard .* started' "$ERR"
check "... access lines at info: <6>" grep -qE '^<6>\{"time":' "$ERR"

# -- JSON lines --
sed -n 's/^<6>{/{/p' "$ERR" >"$WORK/json.log"
# jq_true FILTER FILE: FILE's lines all parse and FILTER gives something, all true.
jq_true() { jq -se "[.[] | ($1)] | length > 0 and all" "$2" >/dev/null; }
check "two JSON lines" test "$(wc -l <"$WORK/json.log")" -eq 2
check "every JSON line parses (jq)" jq_true . "$WORK/json.log"
check "the TLS connection's fields" jq_true 'select(.listener == "front") |
    (.time | test("^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")) and
    (.conn | type == "number") and (.client | test("^127\\.0\\.0\\.1:[0-9]+$")) and
    .sni == "echo.test" and .site == "echo.test" and .server == "[::1]:27301" and
    .c2s > 100 and .s2c > 100 and (.inspect | type == "number") and
    (.connect | type == "number") and (.total | type == "number") and .term == "--" and
    (has("err") | not)' "$WORK/json.log"
check "the HTTP request's fields" jq_true 'select(.listener == "web") |
    .l7 == true and (.client | test("^127\\.0\\.0\\.1:[0-9]+$")) and .host == "echo.test" and
    .site == "echo.test" and .server == "[::1]:27302" and .method == "GET" and
    .path == "/json/path?q=1" and .status == 200 and .in > 0 and .out > 0 and
    (.t | test("^[0-9]+/[0-9]+/[0-9]+/[0-9]+$")) and .reuse == 0 and .term == "--"' \
    "$WORK/json.log"

# -- log off, log sample --
check "log off: no line from that listener" test "$(grep -c 'listener=quiet' "$ERR" || true)" -eq 0
check "log sample 1/3: the 1st and the 4th of six requests" \
    test "$(grep -o 'listener=some .* path=/s[0-9]' "$ERR" | grep -o '/s[0-9]' | tr -d '\n')" = /s1/s4

# -- syslog over UDP --
stamp='[A-Z][a-z]{2} [ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]'
check "RFC 3164 over UDP: the start line, PRI 19 * 8 + 5 = 157" \
    grep -qE "^<157>$stamp switchyard\[$PROXY_PID\]: 20[0-9-]{8}T[0-9:.]{12}Z switchyard .* started" "$U3164"
check "... a JSON access line, PRI 158, the object whole" \
    grep -qE "^<158>$stamp switchyard\[$PROXY_PID\]: \{\"time\":.*\"listener\":\"web\".*\}$" "$U3164"
check "... a text access line with the ISO time" \
    grep -qE "^<158>$stamp switchyard\[$PROXY_PID\]: 20[0-9-]{8}T[0-9:.]{12}Z conn=[0-9]+ .* listener=some " "$U3164"
host=$(uname -n | cut -c1-48)
ts='20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{6}Z'
check "RFC 5424 over UDP: the start line, PRI 20 * 8 + 5 = 165, no MSGID" \
    grep -qE "^<165>1 $ts $host switchyard $PROXY_PID - - switchyard .* started" "$U5424"
check "... access lines with MSGID access, text without the ISO time" \
    grep -qE "^<166>1 $ts $host switchyard $PROXY_PID access - conn=[0-9]+ .* listener=some " "$U5424"
sed -n 's/^<166>1 [^ ]* [^ ]* switchyard [0-9]* access - {/{/p' "$U5424" >"$WORK/json5424.log"
check "... and the JSON ones parse" \
    test "$(jq -c 'select(.listener == "web" or .listener == "front") | .listener' \
        "$WORK/json5424.log" | wc -l)" -eq 2
check "no datagram holds a newline (each starts with <PRI>)" \
    test "$(cat "$U3164" "$U5424" | grep -vc '^<' || true)" -eq 0

stop_proxy
check "exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
check "no line dropped" grep -q 'exiting, 0 log lines dropped' "$ERR"

# -- JOURNAL_STREAM naming another file: no prefix. The UDP receivers are gone: each
# datagram is refused (ICMP port unreachable), dropped and counted, nothing waits. --
kill "$U3164_PID" "$U5424_PID"
: >"$WORK/other"
ERR2=$WORK/stderr2
PROXY_LOG=$ERR2
start env JOURNAL_STREAM="$(stat -c '%d:%i' "$WORK/other")" "$BUILD/proc-logfmt/switchyard" 2>"$ERR2"
PROXY_PID=$LAST_PID
check "JOURNAL_STREAM of another file: started" wait_for 5 grep -q 'started' "$ERR2"
curl -s -o /dev/null --max-time 5 -H 'Host: echo.test' http://127.0.0.1:27380/again || true
check "... access line without a prefix" wait_for 5 grep -q '^{"time":.*"path":"/again"' "$ERR2"
check "... no line starts with <N>" test "$(grep -cE '^<[0-7]>' "$ERR2" || true)" -eq 0
for i in 1 2 3 4 5; do
    curl -s -o /dev/null --max-time 5 -H 'Host: echo.test' "http://127.0.0.1:27380/r$i" || true
done
check "... requests still served and logged to stderr" wait_for 5 grep -q '"path":"/r5"' "$ERR2"
stop_proxy
check "... exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
dropped=$(sed -n 's/.*exiting, \([0-9]*\) log lines dropped.*/\1/p' "$ERR2")
check "... the refused datagrams counted as dropped ($dropped)" test "${dropped:-0}" -ge 2
finish
