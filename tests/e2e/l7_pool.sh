#!/usr/bin/env bash
# Layer 7: idle server connections are kept across client connections (tests/e2e/l7-pool.yard).
# Backends are build/tools/httpd on [::1]:25201-25204; the proxy listens on 127.0.0.1:25280.
# Run from the repository root: BUILD=build bash tests/e2e/l7_pool.sh
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

P=127.0.0.1:25280
BLOG=$WORK/backend.log
C=(-s --max-time 10 -H 'Connection: close')

backend() {     # NAME PORT [ARGS...]
    local name=$1 port=$2
    shift 2
    start "$TOOLS/httpd" -n "$name" -p "$port" -t 60 -L "$BLOG" "$@" 2>>"$WORK/backend.err"
    wait_for 10 tcp_open ::1 "$port" || { not_ok "httpd $name on [::1]:$port starts"; exit 1; }
}
# get HOST PATH [CURL ARGS...]: one request on a new client connection that closes after it.
get() { curl "${C[@]}" -H "Host: $1" "${@:3}" "http://$P$2"; }
cid() { sed -n 's/.*cid=\([0-9]*\) nreq=\([0-9]*\).*/\1\/\2/p'; }
seen() { grep -c "^$1 $2 $3 " "$BLOG"; }

backend one 25201
backend two 25202
backend brief 25203 -i 300
backend proxied 25204
proxy l7-pool

# --- two client connections, one server connection ---
a=$(get one.test /a | cid)
b=$(get one.test /b | cid)
check "the first request opens a server connection ($a)" test "${a#*/}" = 1
check "the next client connection reuses it: same cid, nreq=2 ($b)" test "$b" = "${a%/*}/2"
out=$(curl -s --max-time 10 -D - -H 'Host: one.test' -H 'Connection: close' "http://$P/h")
check "the client that asked to close is told so" grep -qi '^connection: close' <<<"$out"
check "the log counts the reuse" log_has 'path=/b status=200 .* t=[0-9]+/0/[0-9]+/[0-9]+ reuse=1 term=--'

# --- a keep-alive client moving to another site parks its server connection ---
before=$(get two.test /t0 | cid)
out=$(curl -s --max-time 10 -H 'Host: two.test' "http://$P/t1" \
    --next -s --max-time 10 -H 'Host: one.test' "http://$P/t2")
after=$(get two.test /t3 | cid)
check "moving to another site parks the server connection for others" \
    test "${after%/*}" = "${before%/*}" -a "${after#*/}" = 3

# --- a server that closes its idle connection: noticed, a new one is used, no error ---
x=$(get brief.test /x | cid)
sleep 0.6                               # the backend's idle timeout is 300 ms
y=$(get brief.test /y -w '%{http_code}')
check "after the server's idle close the request succeeds on a new connection" \
    test "$(cid <<<"$y")|${y: -3}" = "$(( ${x%/*} + 1 ))/1|200"
check "... the closed connection was noticed before use (no retry)" \
    eval '! grep -q "path=/y .*retried" "$PROXY_LOG"'

# --- a request that the reused connection does not answer ---
get one.test /prime >/dev/null
code=$(get one.test /die -X POST -d 'a=1' -o /dev/null -w '%{http_code}')
check "a POST that a reused connection drops gets 502" test "$code" = 502
check "... and is never sent twice" test "$(seen one POST /die)" -eq 1
get one.test /prime >/dev/null
code=$(get one.test /die -o /dev/null -w '%{http_code}')
check "a GET that a reused connection drops is retried once, then 502" \
    test "$code|$(seen one GET /die)" = "502|2"
check "... the log says it was retried" log_has 'method=GET path=/die status=502 .*retried'

# --- PROXY protocol servers are never shared ---
p1=$(get proxied.test /p1)
p2=$(get proxied.test /p2)
check "each client connection to a PROXY server gets its own connection and header" \
    test "$(cid <<<"$p1") $(cid <<<"$p2") $(grep -c '^proxy=PROXY TCP4 127.0.0.1 ' <<<"$p1$p2")" \
    = "$(cid <<<"$p1") $(( $(cid <<<"$p1" | cut -d/ -f1) + 1 ))/1 2"

# --- the system calls of a request on a new client connection (strace -c) ---
# Per request: accept4, one epoll_ctl (the client), a read and a write on each side, the
# close; the kept server connection passes between client and idle pool without epoll_ctl,
# and a client that asked to close and sent nothing more is not half-closed and waited for.
if command -v strace >/dev/null; then
    get one.test /warm >/dev/null
    start strace -c -f -o "$WORK/strace.out" -p "$PROXY_PID" 2>"$WORK/strace.err"
    ST=$LAST_PID
    wait_for 10 grep -q attached "$WORK/strace.err"
    for i in $(seq 20); do get one.test "/s$i" >/dev/null; done
    kill -TERM "$ST"
    wait_for 10 test -s "$WORK/strace.out"
    calls() { awk -v c="$1" '$NF == c { n = $4 } END { print n + 0 }' "$WORK/strace.out"; }
    # (before: 4 epoll_ctl, a shutdown and 3 reads per request; a response that comes in
    # two segments costs a read more)
    check "20 requests on new client connections: at most 25 epoll_ctl ($(calls epoll_ctl))" \
        test "$(calls epoll_ctl)" -le 25
    check "... no shutdown ($(calls shutdown)) and at most 50 reads ($(calls recvfrom))" \
        test "$(calls shutdown)" = 0 -a "$(calls recvfrom)" -le 50
    check "... no TCP_NODELAY push ($(calls setsockopt) setsockopt)" test "$(calls setsockopt)" = 0
else
    ok "# SKIP strace is not installed (make test installs it: PKGS_TEST)"
fi

# --- graceful stop with idle server connections open ---
get one.test /last >/dev/null
get two.test /last >/dev/null
t0=$(date +%s%N)
stop_proxy
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM with parked server connections: exit 0 within 1 s (took $ms ms)" \
    test "$PROXY_RC" = 0 -a "$ms" -lt 1000
check "no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$PROXY_LOG"'
finish
