#!/usr/bin/env bash
# Metrics in the Prometheus text format: `show metrics` on the admin socket and GET /metrics
# on a metrics listener, both checked by promtool and for the values the traffic made;
# the listener's own answers (HEAD, 404, 405, 400, 431, 408, keep-alive).
# Ports: 26580 (http), 26590 (metrics), httpd backend 26501, 26599 closed.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-proc-metrics.sock
M=127.0.0.1:26590
C=(-s --max-time 10)
rm -f "$SOCK"
start "$TOOLS/httpd" -n one -p 26501 -t 60
wait_for 10 tcp_open ::1 26501 || { not_ok "httpd on [::1]:26501 starts"; exit 1; }
proxy proc-metrics
wait_for 10 test -S "$SOCK" || { not_ok "the admin socket is there"; exit 1; }
wait_for 10 tcp_open 127.0.0.1 26590 || { not_ok "the metrics listener accepts"; exit 1; }

# raw BYTES: sends BYTES (printf format) on one connection to the metrics listener and
# prints the answer until the proxy closes (5 s at most).
raw() {
    exec 3<>/dev/tcp/127.0.0.1/26590
    # shellcheck disable=SC2059
    printf "$1" >&3
    timeout 5 cat <&3 || true
    exec 3<&-
}
# value FILE SAMPLE: the value of the sample (name and labels, exactly) in FILE.
value() { awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' "$1"; }
# is FILE SAMPLE N: the sample's value is N.
is() { [ "$(value "$1" "$2")" = "$3" ]; }
# promtool_ok FILE: promtool parses FILE and has nothing to say about it.
promtool_ok() { promtool check metrics <"$1" >"$WORK/promtool.out" 2>&1 && ! [ -s "$WORK/promtool.out" ]; }

for i in 1 2 3 4 5; do
    curl "${C[@]}" -o /dev/null -w '%{http_code}\n' -H 'Host: one.test' \
        "http://127.0.0.1:26580/r$i" >>"$WORK/codes"
done
curl "${C[@]}" -o /dev/null -w '%{http_code}\n' -H 'Host: down.test' \
    http://127.0.0.1:26580/ >>"$WORK/codes"
check "5 requests through www answered 200, the dead server's 503" \
    test "$(tr '\n' ' ' <"$WORK/codes")" = "200 200 200 200 200 503 "

curl "${C[@]}" -D "$WORK/get.head" -o "$WORK/scrape" "http://$M/metrics"
check "GET /metrics: 200" grep -q '^HTTP/1.1 200 OK' "$WORK/get.head"
check "... Content-Type: text/plain; version=0.0.4; charset=utf-8" \
    grep -qx $'Content-Type: text/plain; version=0.0.4; charset=utf-8\r' "$WORK/get.head"
check "... Content-Length is the body's length" \
    grep -qx "Content-Length: $(wc -c <"$WORK/scrape")"$'\r' "$WORK/get.head"
admin() { "$TOOLS/probe" admin "$SOCK" "$@"; }
admin "show metrics" >"$WORK/show"

www='switchyard_listener_connections_total{listener="www"}'
one='{pool="one.test/http",server="[::1]:26501"}'
dead='{pool="down.test/http",server="[::1]:26599"}'
# has FILE LINE: FILE has exactly this line.
has() { grep -qFx -- "$2" "$1"; }
server_counts() {   # FILE: the live server's sessions and bytes
    is "$1" "switchyard_server_sessions_total$one" 5 &&
        [ "$(value "$1" "switchyard_server_bytes_in_total$one")" -gt 0 ] &&
        [ "$(value "$1" "switchyard_server_bytes_out_total$one")" -gt 0 ]
}
no_errors() { ! grep -F "switchyard_server_errors_total{pool=\"one.test/http\"" "$1" | grep -qv ' 0$'; }
dead_server() {
    is "$1" "switchyard_server_up$dead" 0 && is "$1" "switchyard_server_marked_down_total$dead" 1 &&
        is "$1" 'switchyard_server_errors_total{pool="down.test/http",server="[::1]:26599",class="server"}' 1
}
www_errors() {
    is "$1" 'switchyard_listener_errors_total{listener="www",class="server"}' 1 &&
        is "$1" 'switchyard_listener_errors_total{listener="www",class="client"}' 0
}
process_facts() {
    has "$1" 'switchyard_workers 2' && has "$1" 'switchyard_maxconn 200' &&
        grep -qE '^switchyard_info\{version="[^"]+",config_digest="sha256:[0-9a-f]{64}"\} 1$' "$1"
}
recent_start() {
    local t
    t=$(value "$1" switchyard_start_time_seconds)
    awk -v t="$t" -v now="$(date +%s)" 'BEGIN { exit !(t > now - 120 && t <= now + 1) }'
}
for f in scrape show; do
    F=$WORK/$f
    if command -v promtool >/dev/null; then
        check "$f: promtool check metrics finds nothing wrong" promtool_ok "$F"
    else
        ok "# SKIP promtool is missing (Debian package prometheus): $f not checked by a parser"
    fi
    check "$f: 6 connections through www (both workers added up)" is "$F" "$www" 6
    check "$f: pool one.test/http: 5 sessions" \
        is "$F" 'switchyard_pool_sessions_total{pool="one.test/http"}' 5
    check "$f: its server: 5 sessions, bytes both ways" server_counts "$F"
    check "$f: ... up" is "$F" "switchyard_server_up$one" 1
    check "$f: ... no errors" no_errors "$F"
    check "$f: the dead server: down, marked down once, its error of class server" dead_server "$F"
    check "$f: www errors: 1 of class server, none of class client" www_errors "$F"
    check "$f: the process: 2 workers, its version and digest, maxconn 200" process_facts "$F"
    check "$f: the start time is a recent epoch" recent_start "$F"
done
scrapes_apart() {
    [ "$(value "$WORK/show" 'switchyard_listener_connections_total{listener="mon"}')" -ge 1 ] &&
        ! grep -q 'mon' <(grep -v 'listener="mon"' "$WORK/show")
}
check "scrapes count on the metrics listener alone" scrapes_apart

curl "${C[@]}" -I "http://$M/metrics" >"$WORK/head"
check "HEAD /metrics: 200 with a Content-Length and no body" \
    sh -c "grep -q '^HTTP/1.1 200' '$WORK/head' && grep -qE '^Content-Length: [1-9][0-9]*' '$WORK/head'"
raw 'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$WORK/head.raw"
check "... the answer ends with its head" test "$(tail -c 4 "$WORK/head.raw" | od -An -c | tr -d ' ')" = '\r\n\r\n'
check "GET /other: 404" test "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' "http://$M/other")" = 404
check "GET /metricsx: 404" test "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' "http://$M/metricsx")" = 404
check "GET /metrics?x=1: 200" test "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' "http://$M/metrics?x=1")" = 200
curl "${C[@]}" -D "$WORK/post.head" -o /dev/null -d 'x=1' "http://$M/metrics"
post_refused() {
    grep -q '^HTTP/1.1 405 Method Not Allowed' "$WORK/post.head" &&
        grep -qx $'Allow: GET, HEAD\r' "$WORK/post.head"
}
check "POST /metrics: 405 with Allow: GET, HEAD" post_refused
# first_line BYTES: the status line the metrics listener answers BYTES with.
first_line() { raw "$1" | head -1 | tr -d '\r'; }
check "no Host in HTTP/1.1: 400" \
    test "$(first_line 'GET /metrics HTTP/1.1\r\n\r\n')" = 'HTTP/1.1 400 Bad Request'
big=$(head -c 2000 /dev/zero | tr '\0' a)
check "a head over max-head (1k): 431" \
    test "$(first_line "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\n\r\n")" = \
    'HTTP/1.1 431 Request Header Fields Too Large'
check "a head not complete within timeout client (2 s): 408" \
    test "$(first_line 'GET /metrics HTTP/1.1\r\nHost: x\r\n')" = 'HTTP/1.1 408 Request Timeout'
check "HTTP/2.0: 505" \
    test "$(first_line 'GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n')" = 'HTTP/1.1 505 HTTP Version Not Supported'
curl "${C[@]}" -v -o /dev/null "http://$M/metrics" --next "${C[@]}" -o /dev/null "http://$M/nope" \
    --next "${C[@]}" -o /dev/null "http://$M/metrics" 2>"$WORK/keep"
check "keep-alive: three requests on one connection" \
    test "$(grep -c 'Re-using existing connection' "$WORK/keep")" -eq 2
raw 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    >"$WORK/pipelined"
check "pipelined requests are answered in order" \
    sh -c "grep -a '^HTTP/1.1' '$WORK/pipelined' | tr -d '\r' | tr '\n' '|' | grep -qx 'HTTP/1.1 404 Not Found|HTTP/1.1 200 OK|'"

admin "show metrics" >"$WORK/show2"
mon_errors() {
    is "$WORK/show2" 'switchyard_listener_errors_total{listener="mon",class="proxy"}' 3 &&
        is "$WORK/show2" 'switchyard_listener_errors_total{listener="mon",class="client"}' 1
}
check "the metrics listener's errors: 400, 431 and 505 are the proxy's, 408 the client's" mon_errors
check "... and www is unchanged" is "$WORK/show2" "$www" 6
admin "show stat" >"$WORK/stat" || true    # a dump that never ends fails below
check "show stat still agrees (www accepted 6)" grep -q '^listener,www,OPEN,6,' "$WORK/stat"
check "show stat, one line of $(wc -c <"$WORK/stat") bytes: all 527 rows (past the 16 KiB refill)" \
    test "$(wc -l <"$WORK/stat")" -eq 527
check "show metrics lists all 262 pools ($(wc -c <"$WORK/show2") bytes)" \
    test "$(grep -c '^switchyard_pool_up{' "$WORK/show2")" -eq 262
admin prompt "show metrics" "show info" quit >"$WORK/prompt"
in_order() {    # the whole text, then the next command's answer, each once
    [ "$(grep -c '^# TYPE ' "$WORK/prompt")" -eq "$(grep -c '^# TYPE ' "$WORK/show2")" ] &&
        [ "$(grep -n 'switchyard_server_marked_down_total{' "$WORK/prompt" | tail -1 | cut -d: -f1)" -lt \
          "$(grep -n 'Name: switchyard' "$WORK/prompt" | cut -d: -f1)" ]
}
check "interactive: show metrics whole, then show info" in_order
"$BUILD/proc-metrics/switchyard" --resolve mon one.test >"$WORK/resolve"
check "--resolve on a metrics listener: it routes nothing" grep -qx 'action: metrics (GET /metrics answered by the listener; no routing)' "$WORK/resolve"
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
