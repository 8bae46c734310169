#!/usr/bin/env bash
# QUIC passthrough: HTTP/3 clients and servers of ngtcp2 (gtlsclient, gtlsserver) through a
# quic listener, routed by the SNI of the client's Initial packets: IPv4 and IPv6 clients,
# a ClientHello in two Initial packets, a client whose port changes mid-connection (NAT
# rebinding), an unknown version (Version Negotiation), an unknown name (dropped), the
# fallback pool, junk datagrams.
# Ports: 24743 (quic and tls, 127.0.0.1 and [::1]), 24744 (quic, dual stack), servers
# 24701-24703 on [::1].
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

need_ngtcp2 gtlsclient gtlsserver
# The client sends the name it connects to as its SNI (numeric addresses as "localhost"):
# it runs in a mount namespace of its own whose /etc/hosts names the loopback addresses.
need_root "the QUIC client needs its own /etc/hosts (unshare -m)"
if ! unshare -m --propagation private true 2>/dev/null; then
    ok "# SKIP no private mount namespace here (unshare --propagation private fails, as in a chroot): the QUIC client needs its own /etc/hosts"
    finish
fi
SOCK=/tmp/switchyard-e2e-quic.sock

printf '127.0.0.1 alpha.test nosuch.test\n::1 beta.test\n' >"$WORK/hosts"
# h3get NAME PORT [OPTIONS...]: fetches https://NAME/index.html through the proxy's PORT
# with gtlsclient (H3_WAIT seconds at most, 15 by default: a loaded machine is slow to make
# an 8192-bit key share); prints the body, the client's trace in $WORK/client.log.
h3get() {
    local name=$1 port=$2 dl
    shift 2
    dl=$(mktemp -d "$WORK/dl.XXXXXX")
    timeout "${H3_WAIT:-15}" unshare -m --propagation private sh -c \
        'mount --bind "$0" /etc/hosts && exec "$@"' "$WORK/hosts" \
        gtlsclient --download="$dl" --exit-on-all-streams-close --timeout=10s "$@" \
        "$name" "$port" "https://$name/index.html" >"$WORK/client.log" 2>&1 || true
    cat "$dl"/* 2>/dev/null || true
}
# client_dcid: the Destination Connection ID of the last client's first Initial.
client_dcid() { sed -En 's/.* pkt tx pkn=0 dcid=(0x[0-9a-f]+) .*type=Initial.*/\1/p' "$WORK/client.log" | head -1; }
# server_saw NAME DCID: the trace of server NAME shows a packet for DCID (not empty).
server_saw() { [ -n "$2" ] && grep -q "dcid=$2 " "$WORK/$1.log"; }
only_beta_saw() { server_saw beta.test "$1" && ! server_saw alpha.test "$1"; }
none_saw() { [ -n "$1" ] && ! server_saw alpha.test "$1" && ! server_saw beta.test "$1" &&
             ! server_saw other "$1"; }
admin() { "$TOOLS/probe" admin "$SOCK" "$@"; }
# stat TYPE NAME FIELD: a counter of show stat (4 conns, 5 bytes_in, 6 bytes_out, 7 errors).
stat() { admin "show stat" | awk -F, -v t="$1" -v n="$2" -v f="$3" '$1 == t && $2 == n { print $f }'; }

h3_backend alpha.test 24701
h3_backend beta.test 24702
h3_backend other 24703
proxy quic

check "alpha.test over IPv4 is answered by the alpha server" \
    test "$(h3get alpha.test 24743)" = "this is alpha.test"
check "beta.test over IPv6 is answered by the beta server" \
    test "$(h3get beta.test 24743)" = "this is beta.test"
dcid=$(client_dcid)
check "... its Initial reached the beta server, not the alpha server" only_beta_saw "$dcid"
check "both are logged with their name, site and server" \
    log_has 'client=127\.0\.0\.1:[0-9]+ listener=h3 sni=alpha\.test site=alpha\.test server=\[::1\]:24701 c2s=[1-9][0-9]* s2c=[1-9][0-9]* .*term=--'
check "... the IPv6 one too" \
    log_has 'client=\[::1\]:[0-9]+ listener=h3 sni=beta\.test site=beta\.test server=\[::1\]:24702 .*term=--'

# An 8192-bit finite-field key share makes a ClientHello of about 1.3 KB: two Initial
# packets, each in a datagram of its own.
body=$(h3get alpha.test 24743 --groups=-GROUP-ALL:+GROUP-FFDHE8192:+GROUP-X25519)
check "a ClientHello in two Initial packets is routed by its SNI" \
    test "$body" = "this is alpha.test"
check "... the client did send it in two Initials (CRYPTO at offset 0 and further)" \
    grep -Eq 'Initial CRYPTO\(0x06\) offset=[1-9][0-9]+ len=' "$WORK/client.log"

body=$(h3get beta.test 24743 --change-local-addr=300ms --nat-rebinding --delay-stream=600ms)
check "a client whose port changes after the handshake still gets its answer" \
    test "$body" = "this is beta.test"
check "... the flow followed the client to its new port (rebinds=1)" \
    log_has 'sni=beta\.test .* rebinds=1 .*term=--'

body=$(h3get alpha.test 24743 -v 0x1a2a3a4a --preferred-versions=v1)
check "an unknown version gets a Version Negotiation, then version 1 is routed" \
    test "$body" = "this is alpha.test"
check "... the client received the Version Negotiation" \
    grep -q 'ERR_RECV_VERSION_NEGOTIATION' "$WORK/client.log"

errors=$(stat listener h3 7)
check "an unknown name gets no answer" test -z "$(H3_WAIT=3 h3get nosuch.test 24743)"
dcid=$(client_dcid)
check "... is logged as refused, with its name" \
    log_has 'listener=h3 sni=nosuch\.test site=- server=- .*term=PR err=unknown-name'
check "... and counted as an error of the listener" \
    test "$(stat listener h3 7)" -gt "$errors"
check "... no server saw a packet of it" none_saw "$dcid"

check "an unknown name on a listener with a fallback goes to the fallback server" \
    test "$(h3get nosuch.test 24744)" = "this is other"

errors=$(stat listener h3 7)
printf 'junk' >/dev/udp/127.0.0.1/24743
head -c 1300 /dev/urandom >/dev/udp/::1/24743
check "junk datagrams are dropped and counted" \
    wait_for 5 count_is $((errors + 2)) stat listener h3 7
check "... and the proxy serves on" test "$(h3get beta.test 24743)" = "this is beta.test"
check "the tls listener on the same port still answers TCP" tcp_open 127.0.0.1 24743

stop_proxy
check "the proxy stops cleanly (under its system call filter)" test "$PROXY_RC" = 0
finish
