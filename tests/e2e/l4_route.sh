#!/usr/bin/env bash
# Layer 4: routing by SNI with real TLS clients and servers, IPv4 and IPv6 clients,
# awkward ClientHellos, unknown names, the fallback, and the --resolve/--version CLI.
# Ports: 24443 (front, 127.0.0.1 and [::1]), 24444 (dual stack :24444), backends 24401-24404.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
SY=$BUILD/l4_route/switchyard

tls_backend alpha.test 24401
tls_backend beta.test 24402
byte_backend other 24403
byte_backend apps 24404
proxy l4_route

# subject NAME ADDR: the certificate subject s_client sees through the proxy for NAME.
subject() {
    openssl s_client -connect "$2" -servername "$1" </dev/null 2>/dev/null |
        sed -n 's/^subject=//p'
}
check "s_client alpha.test over IPv4 reaches the alpha backend" \
    test "$(subject alpha.test 127.0.0.1:24443)" = "CN = alpha.test"
check "s_client beta.test over IPv6 reaches the beta backend" \
    test "$(subject beta.test '[::1]:24443')" = "CN = beta.test"

# curl_subject NAME ADDR: HTTP status and certificate subject curl gets through the proxy.
curl_subject() {
    curl -sk -v -o /dev/null -w 'status=%{http_code}\n' --max-time 5 \
        --connect-to "$1:443:$2" "https://$1/" 2>&1 | grep -Eo 'subject: CN=[a-z.]+|status=[0-9]+' |
        tr '\n' ' '
}
check "curl alpha.test over IPv4: 200 from the alpha backend" \
    test "$(curl_subject alpha.test 127.0.0.1:24443)" = "subject: CN=alpha.test status=200 "
check "curl beta.test over IPv6: 200 from the beta backend" \
    test "$(curl_subject beta.test '[::1]:24443')" = "subject: CN=beta.test status=200 "
check "curl ALPHA.test. (case, trailing dot) on the dual-stack listener from IPv4" \
    test "$(curl_subject ALPHA.test. 127.0.0.1:24444)" = "subject: CN=alpha.test status=200 "
check "an IPv4 client of the dual-stack listener is logged as IPv4" \
    log_has 'client=127\.0\.0\.1:[0-9]+ listener=dual sni=alpha\.test .*term=--'

check "hello sent byte by byte is routed (x.apps.test)" \
    "$TOOLS/client" -a 127.0.0.1 -p 24443 -n x.apps.test -b -u 1000
check "hello split into 7-byte TLS records is routed" \
    "$TOOLS/client" -a ::1 -p 24443 -n y.apps.test -r 7 -u 1000
check "hello in 1-byte TLS records is routed" \
    "$TOOLS/client" -a ::1 -p 24443 -n z.apps.test -r 1 -u 1000
check "the apps backend saw exactly those 3 connections" test "$(conns apps)" -eq 3

out=$("$TOOLS/client" -a 127.0.0.1 -p 24443 -n nosuch.test -m alert)
check "unknown name: alert unrecognized_name (15 03 03 00 02 02 70), then close" \
    grep -q ' got=15030300020270$' <<<"$out"
out=$("$TOOLS/client" -a ::1 -p 24443 -n - -m alert)
check "no SNI and no fallback: alert unrecognized_name" grep -q ' got=15030300020270$' <<<"$out"
check "unknown name and no SNI are logged with their reason" \
    log_has 'sni=nosuch\.test site=- server=- .*term=PR err=unknown-name'
check "no SNI is logged as sni=- err=no-sni" log_has 'sni=- site=- server=- .*term=PR err=no-sni'
check "nothing reached any backend for them" test "$(( $(conns other) + $(conns apps) ))" -eq 3

check "unknown name on a listener with a fallback goes to the fallback pool" \
    "$TOOLS/client" -a 127.0.0.1 -p 24444 -n nosuch.test -u 100
check "no SNI on a listener with a fallback goes to the fallback pool" \
    "$TOOLS/client" -a ::1 -p 24444 -n - -u 100
check "the fallback backend saw 2 connections" test "$(conns other)" -eq 2

# Large hellos: a key share of 16,900 bytes makes a 17 KB hello, two TLS records; one of
# 65,000 bytes a hello of 64 KiB less a few hundred bytes, five records.
big_len() { "$TOOLS/client" -n "$1" -k "$2" -m dump | wc -c; }
apps=$(conns apps)
check "a 17 KB hello (two records) is routed by its SNI, and the stream comes back byte-exact" \
    "$TOOLS/client" -a 127.0.0.1 -p 24443 -n big.apps.test -k 16900 -u 100000
n=$(big_len big.apps.test 16900)
check "... the apps backend received exactly the hello ($n bytes) and the 100000 after it" \
    wait_for 5 grep -q "^bytes=$((n + 100000)) " "$WORK/apps/$((apps + 1)).done"
check "... logged with its name" log_has "sni=big\.apps\.test .*c2s=$((n + 100000)) .*term=--"
check "the same hello sent in 100-byte segments, 1 ms apart, is routed byte-exact" \
    "$TOOLS/client" -a ::1 -p 24443 -n slow.apps.test -k 16900 -s 100 -u 1000
check "the same hello in 1000-byte TLS records is routed byte-exact" \
    "$TOOLS/client" -a ::1 -p 24443 -n rec.apps.test -k 16900 -r 1000 -u 1000
check "a hello of nearly 64 KiB is routed byte-exact" \
    "$TOOLS/client" -a 127.0.0.1 -p 24443 -n huge.apps.test -k 65000 -u 1000
check "the apps backend saw those 4 connections" test "$(conns apps)" -eq $((apps + 4))

# A client that connects and sends nothing: the inspect timeout (3 s) holds from its
# connect, TCP_DEFER_ACCEPT's wait before the accept included.
"$TOOLS/client" -a 127.0.0.1 -p 24443 -m silent -t 10 >"$WORK/silent.out"
ms=$(sed -n 's/.* ms=\([0-9]*\) .*/\1/p' "$WORK/silent.out")
check "a silent client is closed 3 s after its connect, within 1 s ($ms ms)" \
    test "$ms" -ge 2900 -a "$ms" -le 4000
check "... logged as an inspect timeout of 3 s" \
    log_has 'sni=- site=- server=- c2s=0 s2c=0 inspect=(29[0-9][0-9]|3[0-9]{3}) .*term=cR err=inspect-timeout'
# One that closes at once: its FIN ends the kernel's wait, so its times are its own.
(exec 3<>/dev/tcp/127.0.0.1/24443)
check "a client that connects and closes at once is logged with the time it took" \
    log_has 'sni=- site=- server=- c2s=0 s2c=0 inspect=[0-9]{1,3} connect=- total=[0-9]{1,3} term=CR err=eof$'

# raw BYTES: what the proxy answers to BYTES (printf format), as hex.
raw() {
    exec 3<>/dev/tcp/127.0.0.1/24443
    printf "$1" >&3
    timeout 5 od -An -tx1 <&3 | tr -d ' \n'
    exec 3>&-
}
check "malformed hello (server_hello type): alert decode_error (15 03 03 00 02 02 32)" \
    test "$(raw '\x16\x03\x01\x00\x06\x02\x00\x00\x02\x03\x03')" = 15030300020232
check "malformed hello is logged with the parser's reason" log_has 'term=PR err=[a-z-]+'
check "plain HTTP on a tls listener is closed without an answer" \
    test "$(raw 'GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n')" = ""
check "plain HTTP is logged as not-tls" log_has 'sni=- .*term=PR err=not-tls'

check "--version prints the version and the config digest" \
    grep -Eq '^switchyard [0-9a-z.]+ config sha256:[0-9a-f]{64}$' <<<"$("$SY" --version)"
out=$("$SY" --resolve tls X.Apps.Test:443)
check "--resolve tls X.Apps.Test:443: normalised, wildcard site, pool and server" \
    grep -qzE 'host: x\.apps\.test.*site: \*\.apps\.test.*server: \[::1\]:24404' <<<"$out"
out=$("$SY" --resolve front bücher.test)
check "--resolve front bücher.test: the A-label yardc made of the site's name" \
    grep -qzE 'host: xn--bcher-kva\.test.*site: xn--bcher-kva\.test.*server: \[::1\]:24402' <<<"$out"
out=$("$SY" --resolve front BÜCHER.Test.:443)
check "--resolve front BÜCHER.Test.:443: mixed case, port and dot, the same site" \
    grep -qzE 'host: xn--bcher-kva\.test.*site: xn--bcher-kva\.test' <<<"$out"
set +e
"$SY" --resolve front $'\xe2\x98\x83.test' >/dev/null 2>"$WORK/err"
rc=$?
set -e
check "--resolve with a name IDNA refuses exits 2" test "$rc" -eq 2
check "--resolve with a name IDNA refuses gives libidn2's reason" \
    grep -q "disallowed character" "$WORK/err"
check "--resolve front nosuch.test: alert" grep -q 'action: alert' <<<"$("$SY" --resolve front nosuch.test)"
check "--resolve dual nosuch.test: fallback" grep -q 'action: fallback' <<<"$("$SY" --resolve dual nosuch.test)"
set +e
"$SY" --resolve nolistener alpha.test >/dev/null 2>"$WORK/err"
rc=$?
set -e
check "--resolve with an unknown listener exits 2 with a message" \
    test "$rc" -eq 2 -a -s "$WORK/err"
"$SY" --resolve frnot alpha.test >/dev/null 2>"$WORK/err" || true
check "--resolve with an unknown listener names the listeners" \
    grep -qF "no listener named 'frnot' (listeners: dual, front; or a mode: tls, http, redirect, metrics, quic)" \
    "$WORK/err"

kill -TERM "$PROXY_PID"
set +e
wait "$PROXY_PID"
rc=$?
set -e
check "SIGTERM with no open connection: exit 0" test "$rc" -eq 0
finish
