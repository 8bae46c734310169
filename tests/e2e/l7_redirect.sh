#!/usr/bin/env bash
# Redirect listeners end to end (tests/e2e/l7-redirect.yard): exact Location, HEAD,
# keep-alive, invalid Host, and the ACME carve-out proxied to the site's http pool.
# Run from the repository root: BUILD=build bash tests/e2e/l7_redirect.sh
set -euo pipefail

BUILD=${BUILD:-build}
SY=$BUILD/l7-redirect/switchyard
HTTPD=$BUILD/tools/httpd
P=127.0.0.1
PORT=25181       # status 308, port 8443
PLAIN=25182      # status 301, port 443

for f in "$SY" "$HTTPD"; do
    [ -x "$f" ] || { echo "not ok - $f is missing (make SITE=tests/e2e/l7-redirect.yard)"; exit 1; }
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
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
contains() { grep -qF -- "$2" <<<"$1"; }

wait_tcp() {
    local deadline=$((SECONDS + 5))
    until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "not ok - nothing listens on $1:$2"; exit 1; }
        sleep 0.05
    done
}

# raw PORT: sends stdin in one write, prints the answer until the proxy closes (5 s at most).
raw() {
    local req
    req=$(cat; echo x)
    exec 3<>"/dev/tcp/$P/$1"
    printf '%s' "${req%x}" >&3
    timeout 5 cat <&3 || true
    exec 3<&-
}

"$HTTPD" -n acme -p 25101 -t 60 -L "$tmp/backend.log" 2>>"$tmp/backend.err" &
pids+=($!)
"$SY" 2>"$tmp/proxy.log" &
sy_pid=$!
pids+=($sy_pid)
wait_tcp ::1 25101
wait_tcp $P $PORT
wait_tcp $P $PLAIN

C="-s --max-time 10"

out=$(curl $C -i "http://$P:$PORT/p/a.html?q=1&r=%2F" -H 'Host: Two.Test.:81')
check "status 308" contains "$out" "HTTP/1.1 308 Permanent Redirect"
check "Location: normalised host, port 8443, path and query as sent" \
    contains "$out" $'Location: https://two.test:8443/p/a.html?q=1&r=%2F\r'
check "Content-Length: 0" contains "$out" $'Content-Length: 0\r'

out=$(curl $C -i "http://$P:$PLAIN/x?y" -H 'Host: one.test')
check "port 443 is left out of Location" contains "$out" $'Location: https://one.test/x?y\r'
check "status 301" contains "$out" "HTTP/1.1 301 Moved Permanently"

out=$(curl $C -i "http://[::1]:$PORT/v6" -H 'Host: [2001:db8::1]:80')
check "IPv6 literal Host" contains "$out" $'Location: https://[2001:db8::1]:8443/v6\r'

out=$(printf 'HEAD /h HTTP/1.1\r\nHost: one.test\r\n\r\nGET /g HTTP/1.1\r\nHost: two.test\r\nConnection: close\r\n\r\n' | raw $PORT)
check "HEAD answered without a body, keep-alive honoured" \
    test "$(grep -c '^HTTP/1.1 308' <<<"$out")" -eq 2
check "pipelined redirects in order" \
    test "$(grep -o 'https://[a-z.]*:8443/[a-z]' <<<"$out" | tr '\n' ' ')" = \
    "https://one.test:8443/h https://two.test:8443/g "

out=$(curl $C -v "http://$P:$PORT/1" -H 'Host: one.test' --next $C "http://$P:$PORT/2" -H 'Host: two.test' 2>&1)
check "curl reuses the connection across redirects" \
    test "$(grep -c 'Re-using existing connection' <<<"$out")" -eq 1

out=$(printf 'GET /x HTTP/1.0\r\n\r\n' | raw $PORT)
check "no Host: 400" contains "$out" "HTTP/1.1 400"
out=$(printf 'GET /x HTTP/1.1\r\nHost: evil.test\r\n x\r\n\r\n' | raw $PORT)
check "obs-fold: 400" contains "$out" "HTTP/1.1 400"
for h in 'a b.test' 'user@one.test' 'one.test/x' '<script>' 'one.test:99999' ''; do
    out=$(printf 'GET /x HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$h" | raw $PORT)
    check "invalid Host '$h': 400, not reflected" \
        eval 'contains "$out" "HTTP/1.1 400" && ! contains "$out" "Location"'
done

out=$(printf 'POST /form HTTP/1.1\r\nHost: one.test\r\nContent-Length: 5\r\n\r\nhello' | raw $PORT)
check "request with a body: redirect, then close" \
    eval 'contains "$out" "HTTP/1.1 308" && contains "$out" "Connection: close"'

: >"$tmp/backend.log"
out=$(curl $C "http://$P:$PORT/.well-known/acme-challenge/tok123" -H 'Host: one.test')
check "ACME challenge proxied to the site's http pool" \
    contains "$out" "path=/.well-known/acme-challenge/tok123 host=one.test"
out=$(curl $C -i "http://$P:$PORT/.well-known/acme-challenge/tok123" -H 'Host: two.test')
check "no ACME carve-out for a site without acme" \
    contains "$out" "Location: https://two.test:8443/.well-known/acme-challenge/tok123"
out=$(curl $C -v "http://$P:$PORT/.well-known/acme-challenge/t1" -H 'Host: one.test' \
    --next $C -i "http://$P:$PORT/index.html" -H 'Host: one.test' 2>&1)
check "ACME proxied, then the rest redirects on the same connection" \
    eval 'contains "$out" "server=acme" && contains "$out" "Location: https://one.test:8443/index.html" &&
          contains "$out" "Re-using existing connection"'
check "only the ACME requests reached the backend" \
    test "$(grep -c acme-challenge "$tmp/backend.log")" -eq 2 -a "$(wc -l <"$tmp/backend.log")" -eq 2

sleep 0.2
check "log line per redirect" \
    grep -qE 'l7 listener=web-redirect host=two\.test site=two\.test server=- method=GET path=/p/a\.html\?q=1&r=%2F status=308' \
    "$tmp/proxy.log"
check "a redirect sent with Connection: close logs its bytes out and its times" \
    grep -qE 'path=/form status=308 in=[0-9]+ out=[1-9][0-9]* t=[0-9]+/-1/[0-9]+/[0-9]+ ' \
    "$tmp/proxy.log"

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
