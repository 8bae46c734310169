#!/usr/bin/env bash
# Active health checks (tests/e2e/l7-check.yard, 2 workers): servers that refuse, never
# answer, or answer the wrong status are marked down by the checks before any client
# touches them, come back after `rise` passes, can be disabled and enabled from the admin
# socket, and the figure: the time from a server's death until every worker has stopped
# sending clients to it, against the goal of one interval x fall.
# Ports 25600-25699; backends on [::1], the proxy on 127.0.0.1:25680 (http), :25643 (tls).
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-l7-check.sock
P=127.0.0.1:25680
INTERVAL_MS=300 FALL=2 TIMEOUT_MS=200   # as the pools' check lines say
WORKERS=2
BLOG=$WORK/backend.log
rm -f "$SOCK"

httpd() {       # NAME PORT: build/tools/httpd, logging requests to $BLOG; HTTPD_PID
    start "$TOOLS/httpd" -n "$1" -p "$2" -t 60 -L "$BLOG" 2>>"$WORK/backend.err"
    HTTPD_PID=$LAST_PID
    wait_for 10 tcp_open ::1 "$2" || { not_ok "httpd $1 on [::1]:$2 starts"; exit 1; }
}
admin() { "$TOOLS/probe" admin "$SOCK" "$@"; }
# row SERVER: its line of show servers (server,state,check,latency_ms,passes,fails)
row() { admin "show servers" | grep -F "$1,"; }
# changes SERVER STATE: how many "is STATE" lines the log has for SERVER (one per worker)
changes() { grep -cF "health: server $1 is $2," "$PROXY_LOG"; }
both_workers() { again "$1" "$2" 0; }
# again SERVER STATE BEFORE: each worker has logged another "is STATE" line for SERVER
# since there were BEFORE of them
again() { test "$(changes "$1" "$2")" -ge $(( $3 + WORKERS )); }
# get HOST: one request; prints "SERVER-NAME TIME_TOTAL" ("-" when no server answered)
get() {
    local out
    out=$(curl -s --max-time 10 -H "Host: $1" -H 'Connection: close' -w '\n%{time_total}' \
        "http://$P/x")
    printf '%s %s\n' "$(sed -n '1s/^server=\([^ ]*\) .*/\1/p' <<<"$out" | grep . || echo -)" \
        "$(tail -n 1 <<<"$out")"
}
# servers_of HOST N: the servers that answered N requests, sorted and counted
servers_of() { for _ in $(seq "$2"); do get "$1"; done >"$WORK/got"; cut -d' ' -f1 "$WORK/got" | sort | uniq -c; }
# ka_get: one request for duo.test on the connection open as fd 3; prints its server's name
ka_get() {
    local line name=
    printf 'GET /ka HTTP/1.1\r\nHost: duo.test\r\n\r\n' >&3
    while IFS= read -r -t 5 line <&3; do
        case $line in server=*) name=${line#server=}; name=${name%% *} ;; esac
        case $line in body_len=*) break ;; esac
    done
    echo "$name"
}
slowest_ms() { awk '{ ms = $2 * 1000; if (ms > m) m = ms } END { printf "%d", m }' "$WORK/got"; }
# log_ms SERVER STATE: the time (epoch ms) of the last worker's "is STATE" line for SERVER
log_ms() {
    date -d "$(grep -F "health: server $1 is $2," "$PROXY_LOG" | tail -n 1 | cut -d' ' -f1)" +%s%3N
}
now_ms() { date +%s%3N; }
# figure WHAT MS GOAL_MS GOAL_TEXT: prints the figure and whether it met the goal; the
# assertion allows half the goal again, for timers on a loaded machine (the checks' own
# timing is what the goal is about; a run on a quiet machine meets it, docs/runtime.md)
figure() {
    local met=no
    [ "$2" -le "$3" ] && met=yes
    echo "# figure: $1 -> every worker stops using it: $2 ms (goal <= $4 = $3 ms: $met)"
    check "$1: every worker drops it within $4 ($2 ms; goal $3 ms, asserted <= $(( $3 * 3 / 2 )) ms)" \
        test "$2" -ge 0 -a "$2" -le $(( $3 * 3 / 2 ))
}

httpd one 25601
httpd h1 25603
H1=$HTTPD_PID
httpd h2 25604
byte_backend mute 25605 -m respond      # accepts, reads until EOF: never answers a check
httpd s 25607
byte_backend echo 25609 -m echo
printf 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' >"$WORK/ok.http"
byte_backend px 25610 -m reply -r "$WORK/ok.http" -P
blackhole 25611                         # connects to it hang until their timeout
httpd b2 25612
proxy l7-check

# --- marked down by the checks alone, before any client ---
check "a closed port: both workers mark it DOWN (L4CON)" \
    wait_for 5 both_workers 'duo/[::1]:25602' DOWN
check "... the log line gives server, reason and latency" \
    grep -qE 'health: server duo/\[::1\]:25602 is DOWN, reason=L4CON latency=[0-9]+\.[0-9]{3}ms passes=0 fails=2$' "$PROXY_LOG"
check "a server that accepts and never answers: DOWN on the check timeout (L7TOUT)" \
    wait_for 5 both_workers 'mute/[::1]:25605' DOWN
check "... after the timeout: latency about 200 ms" \
    grep -qE 'health: server mute/\[::1\]:25605 is DOWN, reason=L7TOUT latency=2[0-9]{2}\.[0-9]{3}ms' "$PROXY_LOG"
check "a check answered 503: DOWN (L7STS 503)" wait_for 5 both_workers 'sts/[::1]:25607' DOWN
check "... the check request: method, path and Host as configured" \
    grep -qx 's GET /status/503 host=sts.example body_len=0' "$BLOG"
check "tls pool (tcp check from defaults): the closed server is DOWN (L4CON)" \
    wait_for 5 both_workers 't.test/tls/[::1]:25608' DOWN
check "... the listening one stays up (L4OK)" \
    wait_for 5 sh -c "'$TOOLS/probe' admin '$SOCK' 'show servers' | grep -q '^t\.test/tls/\[::1\]:25609,up,L4OK,'"
check "... the open one never went down" test "$(changes 't.test/tls/[::1]:25609' DOWN)" = 0
check "a blackholed server (SYNs dropped): DOWN on the connect timeout (L4TOUT)" \
    wait_for 5 both_workers 'bh/[::1]:25611' DOWN
check "... after the check's timeout: latency about 200 ms" \
    grep -qE 'health: server bh/\[::1\]:25611 is DOWN, reason=L4TOUT latency=2[0-9]{2}\.[0-9]{3}ms' "$PROXY_LOG"
servers_of bh.test 10 >"$WORK/after"
check "... clients get the other server, none waits for 'timeout connect' (3 s; slowest $(slowest_ms) ms)" \
    test "$(tr -s ' ' <"$WORK/after")|$(slowest_ms)" = " 10 b2|$(( $(slowest_ms) < 1000 ? $(slowest_ms) : -1 ))"
check "send-proxy-v2 server: the check starts with the PROXY v2 LOCAL header" \
    wait_for 5 grep -q '^v2 ver_cmd=20 fam=00 len=0 ' "$WORK/px/1.proxy"
printf 'GET /px HTTP/1.1\r\nHost: [::1]:25610\r\nConnection: close\r\nUser-Agent: switchyard-check\r\n\r\n' \
    >"$WORK/px.want"
check "... then the request, byte for byte (Host: the server's address by default)" \
    cmp -s "$WORK/px.want" "$WORK/px/1.head"
check "... and it stays up (L7OK 200)" \
    wait_for 5 sh -c "'$TOOLS/probe' admin '$SOCK' 'show servers' | grep -q '^px/\[::1\]:25610,up,L7OK 200,'"
admin "show servers" >"$WORK/servers"
check "show servers: a header" grep -qx '# server,state,check,latency_ms,passes,fails' "$WORK/servers"
check "... a line per server (11)" test "$(grep -vc '^#' "$WORK/servers")" = 11
check "... up, last check L7OK 200, its latency, passes counted" \
    grep -qE '^duo/\[::1\]:25601,up,L7OK 200,[0-9]+\.[0-9]{3},[0-9]+,0$' "$WORK/servers"
check "... down with L4CON, failures counted" \
    grep -qE '^duo/\[::1\]:25602,down,L4CON,[0-9.]+,0,[0-9]+$' "$WORK/servers"
check "... L7TOUT" grep -qE '^mute/\[::1\]:25605,down,L7TOUT,' "$WORK/servers"
check "... L7STS 503" grep -qE '^sts/\[::1\]:25607,down,L7STS 503,' "$WORK/servers"
admin "show stat" >"$WORK/stat"
check "show stat: the closed server is DOWN and no client has touched it (0 conns, 0 down)" \
    grep -qx 'server,duo/\[::1\]:25602,DOWN,0,0,0,0,0' "$WORK/stat"
check "clients go only to the server that is up" \
    test "$(servers_of duo.test 10 | tr -s ' ')" = " 10 one"

# --- back up after rise passes ---
httpd two 25602
TWO=$HTTPD_PID
check "the server starts listening: both workers mark it UP (L7OK/200)" \
    wait_for 5 both_workers 'duo/[::1]:25602' UP
check "... after rise (2) passes" \
    grep -qE 'health: server duo/\[::1\]:25602 is UP, reason=L7OK/200 latency=[0-9.]+ms passes=2 fails=0$' "$PROXY_LOG"
check "... and clients reach it again" grep -q two <(servers_of duo.test 10)

# --- maintenance from the admin socket, for both workers ---
check "disable server POOL/SERVER: OK" test "$(admin 'disable server duo/[::1]:25601')" = OK
check "... show servers says maint" \
    sh -c "'$TOOLS/probe' admin '$SOCK' 'show servers' | grep -q '^duo/\[::1\]:25601,maint,'"
check "... no new request goes to it (20 requests, both workers)" \
    test "$(servers_of duo.test 20 | tr -s ' ')" = " 20 two"
check "... logged" log_has 'admin: server duo/\[::1\]:25601 disabled: maintenance'
check "enable server: OK" test "$(admin 'enable server duo/[::1]:25601')" = OK
# A keep-alive client whose server connection goes to a server disabled meanwhile: its
# next request goes to another server (no new request to a disabled server).
exec 3<>/dev/tcp/127.0.0.1/25680
first=$(ka_get) && admin "disable server duo/[::1]:$([ "$first" = one ] && echo 25601 || echo 25602)" >/dev/null
second=$(ka_get)
exec 3<&-
admin 'enable server duo/[::1]:25601' >/dev/null
admin 'enable server duo/[::1]:25602' >/dev/null
check "a keep-alive client's next request leaves a server disabled meanwhile ($first, then $second)" \
    test -n "$first" -a -n "$second" -a "$first" != "$second"
check "... it gets requests again" grep -q one <(servers_of duo.test 10)
check "an unknown server is refused with its naming" \
    sh -c "'$TOOLS/probe' admin '$SOCK' 'disable server duo/[::1]:9' | grep -q '^No such server'"
check "a command without its server says how" \
    sh -c "'$TOOLS/probe' admin '$SOCK' 'enable server' | grep -q '^Usage: enable server POOL/SERVER'"

# --- the figure: a server that stops listening (connects refused, RST) ---
before=$(changes 'duo/[::1]:25602' DOWN)
kill -TERM "$TWO"
wait "$TWO" 2>/dev/null
t0=$(now_ms)
check "a server that stops listening: every worker marks it DOWN" \
    wait_for 5 again 'duo/[::1]:25602' DOWN "$before"
rst_ms=$(( $(log_ms 'duo/[::1]:25602' DOWN) - t0 ))
goal=$(( INTERVAL_MS * FALL ))
figure "server stopped listening" "$rst_ms" "$goal" "interval x fall"
check "... after fall ($FALL) failed checks in a row (L4CON)" \
    grep -qE "health: server duo/\[::1\]:25602 is DOWN, reason=L4CON .* fails=$FALL\$" "$PROXY_LOG"
servers_of duo.test 10 >"$WORK/after"
check "... after that every client gets the live server, none waits for a connect timeout (slowest $(slowest_ms) ms)" \
    test "$(tr -s ' ' <"$WORK/after")|$(slowest_ms)" = " 10 one|$(( $(slowest_ms) < 1000 ? $(slowest_ms) : -1 ))"

# --- the figure: a server that stops answering (SIGSTOP: the kernel still completes the
# handshake, nothing is ever answered; passive health would never notice) ---
get hang.test >/dev/null
before=$(changes 'hang/[::1]:25603' DOWN)
kill -STOP "$H1"
t0=$(now_ms)
check "a server that stops answering: every worker marks it DOWN" \
    wait_for 5 again 'hang/[::1]:25603' DOWN "$before"
hang_ms=$(( $(log_ms 'hang/[::1]:25603' DOWN) - t0 ))
goal_hang=$(( INTERVAL_MS * FALL + TIMEOUT_MS ))
figure "server stopped answering" "$hang_ms" "$goal_hang" "interval x fall + timeout"
check "... after fall ($FALL) check timeouts in a row (L7TOUT)" \
    grep -qE "health: server hang/\[::1\]:25603 is DOWN, reason=L7TOUT .* fails=$FALL\$" "$PROXY_LOG"
servers_of hang.test 10 >"$WORK/after"
check "... then every client gets the other server at once (slowest $(slowest_ms) ms)" \
    test "$(tr -s ' ' <"$WORK/after")|$(slowest_ms)" = " 10 h2|$(( $(slowest_ms) < 1000 ? $(slowest_ms) : -1 ))"
before=$(changes 'hang/[::1]:25603' UP)
kill -CONT "$H1"
t0=$(now_ms)
# It has a backlog of the checks' stale connections to accept (one process each) first.
check "... it answers again: UP after rise passes" \
    wait_for 10 again 'hang/[::1]:25603' UP "$before"
echo "# back in use by every worker $(( $(log_ms 'hang/[::1]:25603' UP) - t0 )) ms after it answers again"

stop_proxy
check "SIGTERM: exit 0 with checks running" test "$PROXY_RC" = 0
check "no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$PROXY_LOG"'
finish
