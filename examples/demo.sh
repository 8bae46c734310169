#!/usr/bin/env bash
# The demo: switchyard on examples/demo.yard in front of backends on [::1], and curl
# reaching each backend through one proxy address by name.
#   TLS passthrough (demo-tls, :8443): two `openssl s_server` backends, [::1]:9441 and
#     [::1]:9442, each with its own self-signed certificate generated into $BUILD/demo/.
#   HTTP by Host (demo-http, :8080): two small HTTP backends, [::1]:9081 and [::1]:9082.
#   Redirect to https (demo-redirect, :8081), with alpha's ACME challenges let through.
# Run from the repository root: `make demo` (which builds first).
set -euo pipefail

BUILD=${BUILD:-build}
SY=$BUILD/demo/switchyard
DIR=$BUILD/demo
pids=()
failed=0
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
[ -x "$SY" ] || { echo "not ok - $SY is missing: run make first"; exit 1; }

wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
result() { if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; failed=1; fi; }

say "1. Two TLS backends on [::1], each with its own self-signed certificate"
for site in alpha:9441 beta:9442; do
    name=${site%%:*}.demo.test port=${site##*:}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=$name" -days 7 -keyout "$DIR/$name.key" -out "$DIR/$name.crt" 2>/dev/null
    openssl s_server -quiet -www -accept "[::1]:$port" -cert "$DIR/$name.crt" \
        -key "$DIR/$name.key" >/dev/null 2>&1 &
    pids+=($!)
    wait_for 10 tcp_open ::1 "$port"
    echo "   $name  ->  openssl s_server on [::1]:$port (CN=$name)"
done

say "   Two HTTP backends on [::1]"
for site in alpha:9081 beta:9082; do
    name=${site%%:*}.demo.test port=${site##*:}
    "$BUILD/tools/httpd" -n "$name" -p "$port" -t 60 &
    pids+=($!)
    wait_for 10 tcp_open ::1 "$port"
    echo "   $name  ->  httpd on [::1]:$port"
done

say "2. switchyard on examples/demo.yard: $("$SY" --version)"
"$SY" 2>"$DIR/proxy.log" &
pids+=($!)
wait_for 10 grep -q ' started' "$DIR/proxy.log"
echo "   listening on 127.0.0.1:8443 and [::1]:8443 (listener demo-tls)"
echo "   \$ $SY --resolve demo-tls ALPHA.demo.test:443"
"$SY" --resolve demo-tls ALPHA.demo.test:443 | sed 's/^/     /'

say "3. curl, one proxy address, two names"
for via in alpha.demo.test:127.0.0.1:8443 beta.demo.test:[::1]:8443; do
    name=${via%%:*} addr=${via#*:}
    echo "   \$ curl -k --connect-to $name:443:$addr https://$name/"
    out=$(curl -sk -v --max-time 5 --connect-to "$name:443:$addr" "https://$name/" 2>&1 >/dev/null)
    subject=$(grep -o 'subject: CN=[a-z.]*' <<<"$out" || true)
    status=$(grep -o '^< HTTP/[0-9.]* [0-9]*' <<<"$out" || true)
    echo "     ${status#< }, certificate $subject"
    result "$name is answered by its own backend" test "$subject" = "subject: CN=$name"
done

say "4. An unknown name gets a TLS alert, and no backend sees it"
echo "   \$ curl -k --connect-to nosuch.demo.test:443:127.0.0.1:8443 https://nosuch.demo.test/"
curl -sSk --max-time 5 --connect-to nosuch.demo.test:443:127.0.0.1:8443 \
    https://nosuch.demo.test/ 2>&1 | sed 's/^/     /' || true
wait_for 5 grep -q 'err=unknown-name' "$DIR/proxy.log"
result "the unknown name is refused with unrecognized_name" grep -q 'err=unknown-name' "$DIR/proxy.log"

say "5. Plain HTTP, routed by Host on every request of one keep-alive connection"
echo "   \$ curl -H 'Host: alpha.demo.test' http://127.0.0.1:8080/a --next -H 'Host: beta.demo.test' http://127.0.0.1:8080/b"
out=$(curl -sv --max-time 5 -H 'Host: alpha.demo.test' http://127.0.0.1:8080/a \
    --next --max-time 5 -H 'Host: beta.demo.test' http://127.0.0.1:8080/b 2>&1)
grep -E '^server=|Re-using' <<<"$out" | sed 's/^\* //; s/^/     /'
result "alpha's request reached alpha's backend" grep -q '^server=alpha.demo.test .*' <<<"$out"
result "beta's request reached beta's backend" grep -q '^server=beta.demo.test .*' <<<"$out"
result "both went over one client connection" grep -q 'Re-using existing connection' <<<"$out"
echo "   \$ curl -H 'Host: nosuch.demo.test' http://127.0.0.1:8080/"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: nosuch.demo.test' http://127.0.0.1:8080/)
echo "     HTTP $code (the listener's fallback status)"
result "an unknown Host gets 404" test "$code" = 404

say "6. The redirect listener: https for everything, ACME challenges to the backend"
echo "   \$ curl -sI -H 'Host: beta.demo.test' 'http://127.0.0.1:8081/shop?id=7'"
loc=$(curl -sI --max-time 5 -H 'Host: beta.demo.test' 'http://127.0.0.1:8081/shop?id=7' |
    tr -d '\r' | grep -i '^location:' || true)
echo "     $loc"
result "redirected to https with path and query" test "$loc" = "Location: https://beta.demo.test:8443/shop?id=7"
echo "   \$ curl -H 'Host: alpha.demo.test' http://127.0.0.1:8081/.well-known/acme-challenge/t"
out=$(curl -s --max-time 5 -H 'Host: alpha.demo.test' http://127.0.0.1:8081/.well-known/acme-challenge/t)
grep '^server=' <<<"$out" | sed 's/^/     /'
result "the ACME challenge reached alpha's http backend" grep -q '^server=alpha.demo.test' <<<"$out"

say "7. The proxy's log, one line per connection or request"
sed 's/^/   /' "$DIR/proxy.log"
if [ -t 0 ] && [ "$failed" = 0 ]; then
    say "The proxy and its backends keep running; try the commands above. Enter stops them."
    read -r _ || true
fi
exit "$failed"
