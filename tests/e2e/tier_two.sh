#!/usr/bin/env bash
# Two tiers: a switchyard tier (tests/e2e/tier-front.yard: a tls and an http listener, a
# fallback pool of the node with send-proxy-v2) in front of a switchyard node
# (tests/e2e/tier-node.yard: accept-proxy from the tier, real sites). Clients from an IPv4
# address that is neither the tier's nor the node's (127.0.0.5) and from [::1]; the final
# servers see the original client: X-Forwarded-For (layer 7), the node's log line and the
# PROXY header the node sends on (layer 4), with the destination the client reached.
# Run from the repository root: BUILD=build bash tests/e2e/tier_two.sh
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

T4=29680
T7=29681
NODE_LOG=$WORK/node.log
has() { grep -qF -- "$2" <<<"$1"; }
node_has() { wait_for 5 grep -Eq -- "$1" "$NODE_LOG"; }

check "the node's configuration prints to a fixed point" bash -c '
    "$1" --print "$2" >"$3/n1.yard" && "$1" --print "$3/n1.yard" >"$3/n2.yard" &&
    cmp -s "$3/n1.yard" "$3/n2.yard" && grep -q "accept-proxy from 127.0.0.1;" "$3/n1.yard"' \
    _ "$BUILD/yardc" tests/e2e/tier-node.yard "$WORK"
# curl exits 45 when it cannot bind the source address (7 when nothing listens on :9).
curl -s --max-time 2 --interface 127.0.0.5 -o /dev/null "http://127.0.0.1:9/"
if [ $? -eq 45 ]; then
    ok "# SKIP curl cannot bind 127.0.0.5 here"
    finish
fi

tls_backend a.test 29603
byte_backend b 29604 -P
start "$TOOLS/httpd" -n web -p 29605 -t 30
wait_for 10 tcp_open ::1 29605 || { not_ok "httpd starts"; exit 1; }
start "$BUILD/tier-node/switchyard" 2>"$NODE_LOG"
wait_for 10 grep -q ' started' "$NODE_LOG" || { not_ok "the node starts"; exit 1; }
proxy tier-front

# --- layer 7 ---
out=$(curl -s --max-time 5 --interface 127.0.0.5 -H 'Host: a.test' "http://127.0.0.1:$T7/v4")
check "l7 from 127.0.0.5: the server sees X-Forwarded-For 127.0.0.5" has "$out" "xff=127.0.0.5"
check "... and the node logs that client" \
    node_has 'client=127\.0\.0\.5:[0-9]+ l7 listener=n7 host=a\.test .*status=200 '
check "... and the tier logs it too" \
    log_has 'client=127\.0\.0\.5:[0-9]+ l7 listener=t7 .*status=200 '
out=$(curl -s --max-time 5 -H 'Host: a.test' "http://[::1]:$T7/v6")
check "l7 from [::1]: the server sees X-Forwarded-For ::1" has "$out" "xff=::1"
check "... and the node logs that client" \
    node_has 'client=\[::1\]:[0-9]+ l7 listener=n7 host=a\.test .*path=/v6 status=200 '

# --- layer 4 ---
out=$(curl -sk --max-time 5 --interface 127.0.0.5 -o /dev/null -w '%{http_code}' \
    --connect-to "a.test:443:127.0.0.1:$T4" https://a.test/)
check "l4 from 127.0.0.5: TLS with SNI a.test through both tiers (200)" test "$out" = 200
check "... the node logs client 127.0.0.5" \
    node_has 'client=127\.0\.0\.5:[0-9]+ listener=n4 sni=a\.test site=a\.test .*term=--'
subject=$(openssl s_client -connect "[::1]:$T4" -servername a.test </dev/null 2>/dev/null |
    sed -n 's/^subject=//p')
check "l4 from [::1]: s_client reaches a.test's server" test "$subject" = "CN = a.test"
check "... the node logs client [::1]" \
    node_has 'client=\[::1\]:[0-9]+ listener=n4 sni=a\.test site=a\.test '
curl -sk --max-time 3 --interface 127.0.0.5 -o /dev/null \
    --connect-to "b.test:443:127.0.0.1:$T4" https://b.test/
check "l4 from 127.0.0.5: the node's PROXY header names it, and the tier's address reached" \
    wait_for 5 grep -q "v2 ver_cmd=21 fam=11 len=12 127.0.0.5 127.0.0.1 [0-9]* $T4" \
    "$WORK/b/1.proxy"
openssl s_client -connect "[::1]:$T4" -servername b.test </dev/null >/dev/null 2>&1
check "l4 from [::1]: the node's PROXY header names it" \
    wait_for 5 grep -q "v2 ver_cmd=21 fam=21 len=36 ::1 ::1 [0-9]* $T4" "$WORK/b/2.proxy"
check "the node saw only the tier, over IPv4-mapped IPv6, and refused nothing" \
    bash -c '! grep -q "term=P" "$1"' _ "$NODE_LOG"
finish
