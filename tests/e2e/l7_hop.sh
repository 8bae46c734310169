#!/usr/bin/env bash
# What reaches a server and a client through a layer-7 listener (tests/e2e/l7-hop.yard):
# hop-by-hop fields removed both ways, the client's X-Forwarded-* replaced, framing sent
# unambiguous or refused, Upgrade limited to WebSocket on http listeners, the ACME
# carve-out limited to challenge tokens. The servers are byte backends (backend -m reply)
# that record every byte they get and answer with bytes the test wrote.
# Run from the repository root: BUILD=build bash tests/e2e/l7_hop.sh
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

P=127.0.0.1
WEB=25340
RED=25341

has() { grep -qF -- "$2" <<<"$1"; }
lacks() { ! grep -qiF -- "$2" <<<"$1"; }

# raw PORT SECONDS: sends stdin in one write, prints the answer until the proxy closes or
# SECONDS pass.
raw() {
    local port=$1 secs=$2 req
    req=$(cat; echo x)
    exec 3<>"/dev/tcp/$P/$port"
    printf '%s' "${req%x}" >&3
    timeout "$secs" cat <&3 || true
    exec 3<&-
}
# smuggle PORT FIRST SECOND: FIRST, then SECOND half a second later on the same connection;
# prints the answer (2 s at most).
smuggle() {
    {
        printf "$2"
        sleep 0.5
        printf "$3"
    } | {
        exec 3<>"/dev/tcp/$P/$1"
        cat >&3
        timeout 2 cat <&3 || true
        exec 3<&-
    }
}

# server NAME PORT REPLY: a byte backend recording into $WORK/NAME, answering REPLY.
server() {
    printf "$3" >"$WORK/$1.reply"
    byte_backend "$1" "$2" -m reply -r "$WORK/$1.reply"
}
# got NAME: every byte backend NAME received so far, all connections.
got() { cat "$WORK/$1"/*.head 2>/dev/null || true; }
forget() { rm -f "$WORK/$1"/*.head; }

server ff 25301 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\nX-Internal: secret\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTE: trailers\r\nX-End: 1\r\n\r\nok'
server up 25302 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n'
server ws 25303 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
server plain 25304 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
proxy l7-hop

# --- hop-by-hop fields, both ways; X-Forwarded-* replaced ---
out=$(printf 'GET /h HTTP/1.1\r\nHost: ff.test\r\nX-Secret: s\r\nConnection: keep-alive, X-Forwarded-For, X-Secret\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: foo/1\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\nAccept: */*\r\n\r\n' | raw $WEB 1)
req=$(got ff)
check "the request reached the server" has "$req" "GET /h HTTP/1.1"
for f in 'Connection:' 'X-Secret' 'Keep-Alive' 'Proxy-Connection' 'TE:' 'Upgrade' \
         '6.6.6.6' 'https' 'Forwarded: for'; do
    check "the server does not get the client's '$f'" lacks "$req" "$f"
done
check "the server gets the proxy's X-Forwarded-For, despite Connection: x-forwarded-for" \
    has "$req" $'X-Forwarded-For: 127.0.0.1\r'
check "... and X-Forwarded-Proto: http" has "$req" $'X-Forwarded-Proto: http\r'
check "end-to-end fields reach the server" has "$req" $'Accept: */*\r'
check "the client gets the answer" has "$out" "HTTP/1.1 200 OK"
for f in 'X-Internal' 'Keep-Alive' 'Proxy-Connection' 'Upgrade' 'TE:' 'Connection: keep-alive'; do
    check "the client does not get the server's '$f'" lacks "$out" "$f"
done
check "end-to-end fields reach the client" has "$out" $'X-End: 1\r'

# --- framing: one Content-Length; one chunked coding; bounded chunk sizes ---
forget plain
out=$(printf 'POST /cl HTTP/1.1\r\nHost: plain.test\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello' | raw $WEB 2)
req=$(got plain)
check "repeated Content-Length: the server gets exactly one" \
    test "$(grep -ci '^content-length:' <<<"$req")|$(grep -c $'^Content-Length: 5\r$' <<<"$req")" = "1|1"
check "... and the body" has "$req" $'\r\n\r\nhello'
check "the client gets one Content-Length of the server's three" \
    test "$(grep -ci '^content-length:' <<<"$out")" = 1
check "... and a close it was promised" has "$out" $'Connection: close\r'
forget plain
out=$(printf 'POST /te HTTP/1.1\r\nHost: plain.test\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' | raw $WEB 2)
check "gzip then chunked on two lines: 501" has "$out" "HTTP/1.1 501"
out=$(printf 'POST /te HTTP/1.1\r\nHost: plain.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' | raw $WEB 2)
check "gzip, chunked: 501" has "$out" "HTTP/1.1 501"
check "... neither reached the server" test -z "$(got plain)"
out=$(printf 'POST /te HTTP/1.1\r\nHost: plain.test\r\nTransfer-Encoding: , Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n' | raw $WEB 2)
req=$(got plain)
check "chunked spelled otherwise: the server gets 'Transfer-Encoding: chunked'" \
    eval 'has "$req" $'"'"'Transfer-Encoding: chunked\r'"'"' && ! has "$req" ", Chunked"'
forget plain
out=$(printf 'POST /big HTTP/1.1\r\nHost: plain.test\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000005\r\nhello\r\n0\r\n\r\n' | raw $WEB 2)
check "a chunk size of 16 hex digits: 400" has "$out" "HTTP/1.1 400"
check "... and the size line never reaches the server" lacks "$(got plain)" "0000000000000005"

# --- Upgrade: WebSocket only; h2c is no tunnel ---
forget up
out=$(smuggle $WEB \
    'GET / HTTP/1.1\r\nHost: up.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n' \
    'GET /admin HTTP/1.1\r\nHost: internal.test\r\n\r\n')
req=$(got up)
check "h2c: the server gets no Upgrade nor HTTP2-Settings" \
    eval 'lacks "$req" "Upgrade" && lacks "$req" "HTTP2-Settings"'
check "h2c: the server's 101 is not relayed (502)" \
    eval 'has "$out" "HTTP/1.1 502" && lacks "$out" "101 Switching"'
check "h2c smuggling: the request behind it never reaches the server" lacks "$req" "/admin"
forget ws
out=$(printf 'GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n' | raw $WEB 1)
req=$(got ws)
check "websocket: the server gets Upgrade and Connection: Upgrade" \
    eval 'has "$req" $'"'"'Upgrade: websocket\r'"'"' && has "$req" $'"'"'Connection: Upgrade\r'"'"''
check "websocket: the client gets the 101 with its Upgrade" \
    eval 'has "$out" "101 Switching Protocols" && has "$out" $'"'"'Upgrade: websocket\r'"'"' &&
          has "$out" $'"'"'Connection: Upgrade\r'"'"''

# --- redirect listeners: the ACME carve-out takes challenge tokens only, never upgrades ---
forget plain
for t in '../../admin/secret' '%2e%2e/%2e%2e/admin' '%2E%2e/x' 'a%2fb' './t' '..'; do
    out=$(printf 'GET /.well-known/acme-challenge/%s HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n' "$t" | raw $RED 2)
    check "ACME path '$t': redirected" \
        has "$out" "Location: https://plain.test/.well-known/acme-challenge/$t"
done
check "... none reached the server" test -z "$(got plain)"
out=$(printf 'GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: plain.test\r\n\r\n' | raw $RED 1)
check "a challenge token is proxied" has "$(got plain)" "GET /.well-known/acme-challenge/tok "
forget ws
out=$(smuggle $RED \
    'GET /.well-known/acme-challenge/t HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' \
    'GET /admin HTTP/1.1\r\nHost: internal.test\r\n\r\n')
req=$(got ws)
check "ACME with Upgrade: the server gets no Upgrade" lacks "$req" "Upgrade"
check "... its 101 is not relayed (502)" \
    eval 'has "$out" "HTTP/1.1 502" && lacks "$out" "101 Switching"'
check "... and nothing behind it reaches the server" lacks "$req" "/admin"

# --- graceful stop: SIGTERM, clean exit, no sanitizer report ---
stop_proxy
check "proxy exits 0 on SIGTERM" test "$PROXY_RC" = 0
check "no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$PROXY_LOG"'
finish
