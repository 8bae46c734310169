#!/usr/bin/env bash
# Layer 4: dead servers skipped, backup servers, weights, PROXY v1/v2 headers with the
# client's real addresses, and the inspect timeout for a silent client.
# Ports: 26443 (127.0.0.1, [::1]), 26444 (dual stack), backends 26401-26406, servers that
# drop the first SYN 26407-26408, dead 26498-26499.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

byte_backend alive 26401
byte_backend backup 26402
byte_backend v2 26403 -P
byte_backend v1 26404 -P
byte_backend heavy 26405
byte_backend light 26406
proxy l4_pool

c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

check "a dead first server is skipped for the next one" c -a 127.0.0.1 -p 26443 -n dead.test -u 100
check "the next connection goes straight to the live server" c -a ::1 -p 26443 -n dead.test -u 100
check "both reached the live server" test "$(conns alive)" -eq 2
check "both are logged with the live server" \
    test "$(grep -c 'sni=dead\.test .*server=\[::1\]:26401 .*term=--' "$PROXY_LOG")" -eq 2
check "a backup server serves when the normal one is down" c -a ::1 -p 26443 -n backup.test -u 100
check "the backup got it" test "$(conns backup)" -eq 1

for i in 1 2 3 4 5 6; do c -a ::1 -p 26443 -n weights.test -u 10; done
check "weight 2 against weight 1: 4 and 2 of 6 connections" \
    test "$(conns heavy) $(conns light)" = "4 2"

# port_of: the client's source port from its output line.
port_of() { sed -n 's/^local=.*:\([0-9]*\) .*/\1/p' "$WORK/client.out"; }
check "PROXY v2 from an IPv4 client: the stream after the header is intact" \
    c -a 127.0.0.1 -p 26443 -n v2.test -u 1000
check "PROXY v2 header: TCP over IPv4 (0x11), 12 address bytes, client and proxy addresses" \
    grep -qx "v2 ver_cmd=21 fam=11 len=12 127.0.0.1 127.0.0.1 $(port_of) 26443" "$WORK/v2/1.proxy"
check "PROXY v2 from an IPv4 client of the dual-stack listener" c -a 127.0.0.1 -p 26444 -n v2.test
check "... is reported as IPv4, not v4-mapped IPv6" \
    grep -qx "v2 ver_cmd=21 fam=11 len=12 127.0.0.1 127.0.0.1 $(port_of) 26444" "$WORK/v2/2.proxy"
check "PROXY v2 from an IPv6 client" c -a ::1 -p 26443 -n v2.test
check "... is TCP over IPv6 (0x21), 36 address bytes" \
    grep -qx "v2 ver_cmd=21 fam=21 len=36 ::1 ::1 $(port_of) 26443" "$WORK/v2/3.proxy"
check "PROXY v1 from an IPv4 client of the dual-stack listener" c -a 127.0.0.1 -p 26444 -n v1.test
check "... says TCP4 with the client's address and port" \
    grep -qx "v1 PROXY TCP4 127.0.0.1 127.0.0.1 $(port_of) 26444" "$WORK/v1/1.proxy"
check "PROXY v1 from an IPv6 client" c -a ::1 -p 26443 -n v1.test
check "... says TCP6" grep -qx "v1 PROXY TCP6 ::1 ::1 $(port_of) 26443" "$WORK/v1/2.proxy"

# A server whose first SYN goes unanswered: the connect is still going on when the proxy
# first tries to send, and completes with the SYN sent again (after 1 s). Each server
# starts just before its client: it drops SYNs for 0.8 s, then echoes.
late() {    # late NAME PORT WHAT
    blackhole "$2" -t 0.8
    check "a connect answered only on the second SYN: $3" \
        c -a 127.0.0.1 -p 26443 -n "$1" -u 5000 -t 10
    ms=$(sed -n 's/.* ms=\([0-9]*\) .*/\1/p' "$WORK/client.out")
    check "... after the SYN was sent again ($ms ms)" test "$ms" -ge 900 -a "$ms" -lt 3000
    check "... logged with a connect time of about 1 s and a normal end" \
        log_has "sni=${1//./\\.} .*server=\\[::1\\]:$2 .*connect=(9[0-9][0-9]|1[0-9]{3}) .*term=--\$"
}
late late.test 26407 "the hello and the stream are relayed"
late latev1.test 26408 "the server gets exactly one PROXY v1 header, then the stream"
check "... the header names the client" \
    grep -qx "PROXY TCP4 127.0.0.1 127.0.0.1 $(port_of) 26443" "$WORK/blackhole.26408"

check "a silent client is closed by the proxy (inspect timeout 1 s)" \
    c -a 127.0.0.1 -p 26443 -m silent -t 10
ms=$(sed -n 's/.* ms=\([0-9]*\) .*/\1/p' "$WORK/client.out")
check "... after the inspect timeout from its connect, within 1 s ($ms ms)" \
    test "$ms" -ge 900 -a "$ms" -le 2000
check "... logged as a client timeout while inspecting" \
    log_has 'sni=- site=- server=- c2s=0 s2c=0 .*term=cR err=inspect-timeout'
finish
