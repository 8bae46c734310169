#!/usr/bin/env bash
# Layer 7 end to end: every request routed by its Host (tests/e2e/l7-http.yard).
# Backends are build/tools/httpd on [::1]:25001-25003; the proxy listens on :25080, :25082.
# Run from the repository root: BUILD=build bash tests/e2e/l7_http.sh
set -euo pipefail

BUILD=${BUILD:-build}
SY=$BUILD/l7-http/switchyard
HTTPD=$BUILD/tools/httpd
P=127.0.0.1
PORT=25080

for f in "$SY" "$HTTPD"; do
    [ -x "$f" ] || { echo "not ok - $f is missing (make SITE=tests/e2e/l7-http.yard)"; exit 1; }
done

tmp=$(mktemp -d)
pids=()
failed=0
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
# shellcheck source=tests/e2e/lib/poll.sh
. "$(dirname "$0")/lib/poll.sh"

# wait_tcp HOST PORT: poll until something accepts, 5 s at most.
wait_tcp() {
    local deadline=$((SECONDS + 5))
    until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "not ok - nothing listens on $1:$2"; exit 1; }
        sleep 0.05
    done
}

# raw PORT [SECONDS]: sends stdin in one write on one connection, prints the answer until the
# proxy closes (or SECONDS, default 5). Requests end with "Connection: close".
raw() {
    local port=$1 secs=${2:-5} req
    req=$(cat; echo x)
    exec 3<>"/dev/tcp/$P/$port"
    printf '%s' "${req%x}" >&3
    timeout "$secs" cat <&3 || true
    exec 3<&-
}

backend() {
    "$HTTPD" -n "$1" -p "$2" -t 90 -L "$tmp/backend.log" 2>>"$tmp/backend.err" &
    pids+=($!)
}
backend one 25001
backend two 25002
backend three 25003
"$SY" 2>"$tmp/proxy.log" &
sy_pid=$!
pids+=($sy_pid)
for p in 25001 25002 25003; do wait_tcp ::1 $p; done
wait_tcp $P $PORT
wait_tcp ::1 25082

C="-s --max-time 10"

# --- Host routing on one keep-alive connection ---
out=$(curl $C -v "http://$P:$PORT/a" -H 'Host: one.test' \
    --next $C "http://$P:$PORT/b" -H 'Host: two.test' \
    --next $C "http://$P:$PORT/c" -H 'Host: one.test' \
    --next $C "http://$P:$PORT/d" -H 'Host: one.test' 2>&1)
check "two Hosts on one connection reach two backends" \
    test "$(grep -o 'server=[a-z]*' <<<"$out" | tr '\n' ' ')" = \
    "server=one server=two server=one server=one "
check "curl reused the client connection" \
    test "$(grep -c 'Re-using existing connection' <<<"$out")" -eq 3
check "same server twice: the backend connection is reused" \
    contains "$out" "nreq=2"
check "requests keep their paths" \
    test "$(grep -o 'path=/[a-z]*' <<<"$out" | tr '\n' ' ')" = "path=/a path=/b path=/c path=/d "

# --- pipelining: three requests in one write, answered in order ---
out=$(printf 'GET /p1 HTTP/1.1\r\nHost: one.test\r\n\r\nGET /p2 HTTP/1.1\r\nHost: two.test\r\n\r\nGET /p3 HTTP/1.1\r\nHost: one.test\r\nConnection: close\r\n\r\n' | raw $PORT)
check "pipelined requests answered in order" \
    test "$(grep -o 'path=/p[0-9]' <<<"$out" | tr '\n' ' ')" = "path=/p1 path=/p2 path=/p3 "
check "pipelined requests went to their own backends" \
    test "$(grep -o 'server=[a-z]*' <<<"$out" | tr '\n' ' ')" = "server=one server=two server=one "

# --- HTTP/1.0 persistence ---
out=$(printf 'GET /a HTTP/1.0\r\nHost: one.test\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\nHost: two.test\r\n\r\n' | raw $PORT)
check "HTTP/1.0 keep-alive then close" \
    test "$(grep -o 'server=[a-z]*' <<<"$out" | tr '\n' ' ')" = "server=one server=two "

# --- HEAD, 204, 304: no body, the connection stays in step ---
out=$(printf 'HEAD /h HTTP/1.1\r\nHost: one.test\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: one.test\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: one.test\r\n\r\nGET /after HTTP/1.1\r\nHost: one.test\r\nConnection: close\r\n\r\n' | raw $PORT)
check "HEAD, 204 and 304 answered without a body, next request follows" \
    test "$(grep -o '^HTTP/1.1 [0-9]*' <<<"$out" | tr '\n' ' ')|$(grep -c 'server=' <<<"$out")" = \
    "HTTP/1.1 200 HTTP/1.1 204 HTTP/1.1 304 HTTP/1.1 200 |1"
check "HEAD keeps the Content-Length of the GET" \
    test "$(curl $C -I "http://$P:$PORT/x" -H 'Host: one.test' | grep -ci '^content-length: [1-9]')" -eq 1

# --- response framings ---
out=$(curl $C "http://$P:$PORT/chunked" -H 'Host: one.test')
check "chunked response passes" contains "$out" "path=/chunked"
out=$(curl $C "http://$P:$PORT/close" -H 'Host: one.test')
check "close-delimited response passes" contains "$out" "path=/close"
n=$(curl $C -o /dev/null -w '%{size_download}' "http://$P:$PORT/big/8388608" -H 'Host: one.test')
check "8 MiB response arrives whole" test "$n" -gt 8388608

# --- request bodies ---
head -c 67108864 /dev/urandom >"$tmp/big"
want=$(cksum <"$tmp/big" | cut -d' ' -f1)
out=$(curl $C --max-time 30 -T - -H 'Host: one.test' "http://$P:$PORT/upload" <"$tmp/big")
check "64 MiB chunked upload is byte-exact" contains "$out" "body_len=67108864 body_cksum=$want"
out=$(curl $C --max-time 30 -T "$tmp/big" -H 'Host: one.test' "http://$P:$PORT/upload")
check "64 MiB Content-Length upload is byte-exact" \
    contains "$out" "body_len=67108864 body_cksum=$want"
rm -f "$tmp/big"
# A request body that comes in bulk is spliced to the server, and no further than its
# Content-Length: the request pipelined right behind it is read and answered as one.
head -c 4194304 /dev/urandom >"$tmp/body"
want=$(cksum <"$tmp/body" | cut -d' ' -f1)
{
    printf 'PUT /upload HTTP/1.1\r\nHost: one.test\r\nContent-Length: 4194304\r\n\r\n'
    cat "$tmp/body"
    printf 'GET /after-body HTTP/1.1\r\nHost: one.test\r\nConnection: close\r\n\r\n'
} >"$tmp/pipelined"
exec 5<>/dev/tcp/$P/$PORT
cat "$tmp/pipelined" >&5 &
writer=$!
out=$(timeout 20 cat <&5 || true)
wait "$writer" || true
exec 5<&-
check "4 MiB upload with a request pipelined behind it: the body arrives byte-exact" \
    contains "$out" "body_len=4194304 body_cksum=$want"
check "... and the request behind it is answered" contains "$out" "path=/after-body"
rm -f "$tmp/body" "$tmp/pipelined"
# A long body is relayed up to its end and no further: the next response on the same
# connection arrives intact. The body is a line per request, then 8 MiB of filler:
# compare the filler.
want=$(curl $C "http://[::1]:25001/big/8388608" -H 'Host: one.test' | tail -c 8388608 | cksum)
out=$(curl $C -o "$tmp/dl" "http://$P:$PORT/big/8388608" -H 'Host: one.test' \
    --next $C -w '%{num_connects}' "http://$P:$PORT/after" -H 'Host: one.test')
check "8 MiB response is byte-exact" test "$(tail -c 8388608 "$tmp/dl" | cksum)" = "$want"
check "the response after it arrives on the same connection" \
    test "$(grep -c 'path=/after' <<<"$out")-${out: -1}" = "1-0"
rm -f "$tmp/dl"
# Bodies that come in bulk are spliced (socket -> pipe -> socket): a length body stops
# exactly at its end (above), a close-delimited one at the server's EOF, a slow reader
# keeps the pipe full for a while, and a body cut short ends the client's connection.
filler() { tail -c "$1" | cksum; }
want=$(curl $C "http://[::1]:25001/close/16777216" -H 'Host: one.test' | filler 16777216)
got=$(curl $C "http://$P:$PORT/close/16777216" -H 'Host: one.test' | filler 16777216)
check "16 MiB close-delimited response is byte-exact" test "$got" = "$want"
want=$(curl $C "http://[::1]:25001/big/16777216" -H 'Host: one.test' | filler 16777216)
got=$(curl $C --limit-rate 32M "http://$P:$PORT/big/16777216" -H 'Host: one.test' |
    filler 16777216)
check "16 MiB to a client reading at 32 MiB/s is byte-exact" test "$got" = "$want"
n=$(curl $C -o /dev/null -w '%{size_download}' "http://$P:$PORT/cut/16777216" \
    -H 'Host: one.test' || true)
check "a body the server cuts short ends the client's connection ($n bytes)" \
    test "$n" -gt 8388608 -a "$n" -lt 8400000
want=$(curl $C "http://[::1]:25001/big/8388608" -H 'Host: one.test' | filler 8388608)
out=$(curl $C -o "$tmp/dl" "http://$P:$PORT/extra/8388608" -H 'Host: one.test' \
    --next $C -w '%{num_connects}' "http://$P:$PORT/after" -H 'Host: one.test' || true)
check "bytes a server sends past its Content-Length do not reach the client" \
    test "$(filler 8388608 <"$tmp/dl")" = "$want"
check "... and the next response on that connection arrives intact" \
    test "$(grep -c 'path=/after' <<<"$out")-${out: -1}" = "1-0"
rm -f "$tmp/dl"
check "... logged as a truncated response" \
    grep -q 'path=/cut/16777216 status=200 .*term=SD err=truncated-response' "$tmp/proxy.log"
# A client that sends its request and then does not read: the proxy's socket toward it
# keeps at most SEND_LOWAT (16 KiB) unsent plus one segment of up to 64 KiB (the kernel's
# default would queue its whole autotuned send buffer, megabytes); the rest waits in the
# server.
exec 5<>/dev/tcp/$P/$PORT
printf 'GET /big/16777216 HTTP/1.1\r\nHost: one.test\r\nConnection: close\r\n\r\n' >&5
check "a client that does not read gets bytes queued toward it" wait_for 2 queued "sport = :$PORT"
sleep 0.5
q=$(unsent "sport = :$PORT")
check "... at most 128 KiB of them unsent in the proxy's socket ($q)" test "$q" -le 131072
n=$(timeout 20 cat <&5 | wc -c)
exec 5<&-
check "... and once it reads, the whole 16 MiB response arrives" test "$n" -gt 16777216
head -c 300000 /dev/urandom >"$tmp/small"
want=$(cksum <"$tmp/small" | cut -d' ' -f1)
out=$(curl $C -v -H 'Host: one.test' -H 'Expect: 100-continue' --data-binary @"$tmp/small" \
    "http://$P:$PORT/post" 2>&1)
check "100-continue relayed before the final answer" contains "$out" "< HTTP/1.1 100 Continue"
check "body after 100-continue is byte-exact" contains "$out" "body_len=300000 body_cksum=$want"

# --- upgrade: a tunnel after 101 ---
out=$( {
    printf 'GET /upgrade HTTP/1.1\r\nHost: one.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'
} | {
    exec 3<>"/dev/tcp/$P/$PORT"
    cat >&3
    IFS= read -r -t 3 line <&3 && echo "$line"
    while IFS= read -r -t 3 line <&3; do [ "$line" = $'\r' ] && break; done
    printf 'ping through the tunnel\n' >&3
    IFS= read -r -t 3 line <&3 && echo "$line"
    exec 3<&-
} )
check "101 switches to a tunnel" contains "$out" "101 Switching Protocols"
check "bytes echo through the tunnel" contains "$out" "ping through the tunnel"

# --- X-Forwarded-For ---
out=$(curl $C "http://$P:$PORT/x" -H 'Host: two.test')
check "site forwarded-for adds X-Forwarded-For and -Proto" contains "$out" "xff=127.0.0.1 xfp=http"
out=$(curl $C "http://$P:$PORT/x" -H 'Host: one.test')
check "no X-Forwarded-For by default" contains "$out" "xff=- xfp=-"
out=$(curl $C "http://[::1]:25082/x" -H 'Host: one.test')
check "listener forwarded-for adds X-Forwarded-For" contains "$out" "xff=::1 xfp=http"

# --- unknown Host ---
out=$(curl $C -i "http://$P:$PORT/x" -H 'Host: nosuch.test')
check "unknown Host gets 503" contains "$out" "HTTP/1.1 503"
out=$(curl $C "http://[::1]:25082/x" -H 'Host: nosuch.test')
check "unknown Host goes to the listener's fallback pool" contains "$out" "server=three"

# --- server errors ---
code=$(curl $C -o /dev/null -w '%{http_code}' "http://$P:$PORT/x" -H 'Host: down.test')
check "connect refused, no server left: 503" test "$code" = 503
out=$(for i in 1 2 3; do curl $C "http://$P:$PORT/r$i" -H 'Host: retry.test'; done)
check "a refused server is skipped for the next one" \
    test "$(grep -c 'server=three' <<<"$out")" -eq 3
code=$(curl $C -o /dev/null -w '%{http_code}' "http://$P:$PORT/bad" -H 'Host: one.test')
check "a response that does not parse: 502" test "$code" = 502
start=$SECONDS
code=$(curl $C -o /dev/null -w '%{http_code}' "http://$P:$PORT/sleep/4000" -H 'Host: one.test')
check "server timeout: 504" test "$code" = 504

# --- bad requests ---
out=$(printf 'GET / HTTP/1.1\r\nHost: one.test\r\n' | raw $PORT 4)
check "slow head: 408" contains "$out" "HTTP/1.1 408"
big=$(head -c 17000 /dev/zero | tr '\0' a)
code=$(curl $C -o /dev/null -w '%{http_code}' "http://$P:$PORT/x" -H 'Host: one.test' -H "X-Big: $big")
check "head larger than max-head: 431" test "$code" = 431
out=$(printf 'GET /%s HTTP/1.1\r\nHost: one.test\r\n\r\n' "$big" | raw $PORT)
check "request line longer than max-head: 414 (RFC 9112 section 3)" contains "$out" "HTTP/1.1 414"
out=$(printf 'CONNECT one.test:443 HTTP/1.1\r\nHost: one.test:443\r\n\r\n' | raw $PORT)
check "CONNECT refused with 501" contains "$out" "HTTP/1.1 501"

: >"$tmp/backend.log"
smuggle() {
    local out
    out=$(printf "$1" | raw $PORT)
    [ "$(grep -c '^HTTP/1.1 ' <<<"$out")" -eq 1 ] && grep -qE "^HTTP/1.1 ($2) " <<<"$out"
}
check "CL + TE: 400" smuggle \
    'POST / HTTP/1.1\r\nHost: one.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /evil HTTP/1.1\r\nHost: one.test\r\n\r\n' 400
check "TE + CL: 400" smuggle \
    'POST / HTTP/1.1\r\nHost: one.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nGET /evil HTTP/1.1\r\nHost: one.test\r\n\r\n' 400
check "two different Content-Lengths: 400" smuggle \
    'POST / HTTP/1.1\r\nHost: one.test\r\nContent-Length: 6\r\nContent-Length: 5\r\n\r\nabcdef' 400
check "Transfer-Encoding in HTTP/1.0: 400" smuggle \
    'POST / HTTP/1.0\r\nHost: one.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' 400
check "obfuscated Transfer-Encoding: not forwarded" smuggle \
    'POST / HTTP/1.1\r\nHost: one.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n' '400|501'
check "bare LF line ends: 400" smuggle \
    'GET / HTTP/1.1\nHost: one.test\n\n' 400
check "two Host fields: 400" smuggle \
    'GET / HTTP/1.1\r\nHost: one.test\r\nHost: two.test\r\n\r\n' 400
check "nothing of those requests reached a backend" test ! -s "$tmp/backend.log"
out=$(printf 'POST /c HTTP/1.1\r\nHost: one.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n' | raw $PORT)
check "malformed chunk in a request body: 400" contains "$out" "HTTP/1.1 400"

# --- the log: one line per request ---
sleep 0.2
check "log line per request with Host, site, server, status, timings" \
    grep -qE 'l7 listener=web host=two\.test site=two\.test server=\[::1\]:25002 method=GET path=/b status=200 in=[0-9]+ out=[0-9]+ t=[0-9]+/[0-9-]+/[0-9]+/[0-9]+ reuse=[0-9]+ term=--' \
    "$tmp/proxy.log"
check "log line for the smuggling attempt says why" grep -q 'status=400 .*err=cl-and-te' "$tmp/proxy.log"
check "log line for the slow head" grep -q 'status=408 .*term=cR' "$tmp/proxy.log"
check "log line for the long request line" grep -q 'status=414 .*err=request-line-too-long' \
    "$tmp/proxy.log"
check "log line for the server timeout" grep -q 'status=504 .*term=sH' "$tmp/proxy.log"

# --- graceful stop: SIGTERM, clean exit, no sanitizer report ---
kill -TERM "$sy_pid"
deadline=$((SECONDS + 5))
while kill -0 "$sy_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
rc=0
wait "$sy_pid" || rc=$?
check "proxy exits 0 on SIGTERM" test "$rc" -eq 0
check "no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$tmp/proxy.log"'

if [ $failed -ne 0 ]; then
    echo "# proxy log:"
    sed 's/^/#   /' "$tmp/proxy.log" | tail -n 60
    exit 1
fi
