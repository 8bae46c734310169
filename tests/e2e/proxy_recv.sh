#!/usr/bin/env bash
# Receiving PROXY headers (tests/e2e/proxy_recv.yard): from a trusted source (127.0.0.1) a
# v1 or v2 header names the client that the log, X-Forwarded-For and the PROXY header sent
# on to a server then carry; a LOCAL header keeps the real peer; an untrusted source ([::1])
# that sends one, a trusted one that sends none (unless optional) and a malformed header are
# closed with their err= code, and the bytes after a taken header reach the server intact.
# Run from the repository root: BUILD=build bash tests/e2e/proxy_recv.sh
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

L4=29640
L7=29641
OPT=29642
SIG='\r\n\r\n\x00\r\nQUIT\n'

# send ADDR PORT PRINTF-FORMAT [SECONDS]: sends the bytes on one connection, prints the
# answer until the proxy closes (or SECONDS, default 3). In a subshell that ignores SIGPIPE:
# the proxy may close before the last byte is written.
send() (
    trap '' PIPE
    exec 3<>"/dev/tcp/$1/$2" || return 1
    printf "$3" >&3 2>/dev/null
    timeout "${4:-3}" cat <&3 || true
    exec 3<&-
)
# send_split ADDR PORT FIRST REST: FIRST, then REST 0.3 s later on the same connection.
send_split() {
    exec 3<>"/dev/tcp/$1/$2" || return 1
    printf "$3" >&3 2>/dev/null
    sleep 0.3
    printf "$4" >&3
    timeout 3 cat <&3 || true
    exec 3<&-
}
# send_close ADDR PORT PRINTF-FORMAT: sends the bytes and closes at once.
send_close() {
    exec 3<>"/dev/tcp/$1/$2" || return 1
    printf "$3" >&3 2>/dev/null
    exec 3<&-
}
has() { grep -qF -- "$2" <<<"$1"; }
GET='GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n'
# hex STRING: the printf escapes of STRING's bytes.
hex() { od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/ $//; s/ /\\x/g'; }

byte_backend b4 29601 -P
start "$TOOLS/httpd" -n web -p 29602 -t 30
wait_for 10 tcp_open ::1 29602 || { not_ok "httpd starts"; exit 1; }
proxy proxy_recv
hello a.test
HELLO=$(hex <"$WORK/a.test.hello")

# --- layer 7 ---
out=$(send 127.0.0.1 $L7 "PROXY TCP4 203.0.113.7 192.0.2.1 40007 80\r\n$GET")
check "l7, trusted v1: the server sees the carried client in X-Forwarded-For" \
    has "$out" "xff=203.0.113.7"
check "... and the log line names it" \
    log_has 'client=203\.0\.113\.7:40007 l7 listener=r7 .*status=200 '
# v2 AF_INET6: 2001:db8::7 port 40008 to 2001:db8::1 port 80, then the request.
V2_6A="$SIG\x21\x21\x00\x24\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"
V2_6B="\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x9c\x48\x00\x50"
V2_6=$V2_6A$V2_6B
out=$(send 127.0.0.1 $L7 "$V2_6$GET")
check "l7, trusted v2 (IPv6 client): X-Forwarded-For is the carried client" \
    has "$out" "xff=2001:db8::7"
check "... and the log line names it" log_has 'client=\[2001:db8::7\]:40008 l7 listener=r7 '
out=$(send_split 127.0.0.1 $L7 "$V2_6A" "$V2_6B$GET")
check "l7, a header cut in two segments is waited for" has "$out" "xff=2001:db8::7"
out=$(send 127.0.0.1 $L7 "$SIG\x20\x00\x00\x00$GET")
check "l7, v2 LOCAL: the connection's own address stands" has "$out" "xff=127.0.0.1"
out=$(send ::1 $L7 "PROXY TCP4 203.0.113.66 192.0.2.1 40066 80\r\n$GET")
check "l7, untrusted source with a header: closed without an answer" test -z "$out"
check "... logged as proxy-untrusted" \
    log_has 'client=\[::1\]:[0-9]+ l7 listener=r7 .*term=PR err=proxy-untrusted'
out=$(send ::1 $L7 "$GET")
check "l7, untrusted source without a header is served as itself" has "$out" "xff=::1"
out=$(send 127.0.0.1 $L7 "$GET")
check "l7, trusted source without a header (required): closed" test -z "$out"
check "... logged as proxy-missing" log_has 'l7 listener=r7 .*term=PR err=proxy-missing'
out=$(send 127.0.0.1 $L7 "PROXY TCP4 203.0.113.300 192.0.2.1 1 80\r\n$GET")
check "l7, malformed v1 address: closed" test -z "$out"
check "... logged as proxy-v1-address" log_has 'term=PR err=proxy-v1-address'
out=$(send 127.0.0.1 $L7 "$SIG\x21\x11\xff\xff$GET")
check "l7, v2 with a hostile length: closed at once" test -z "$out"
check "... logged as proxy-v2-length" log_has 'term=PR err=proxy-v2-length'
send_close 127.0.0.1 $L7 "PROXY TCP4 203.0.113.7"
check "l7, a client that closes within the header: logged as truncated-proxy" \
    log_has 'term=CR err=truncated-proxy'
out=$(send 127.0.0.1 $OPT "$GET")
check "l7, optional: a trusted source without a header is served as itself" \
    has "$out" "xff=127.0.0.1"
out=$(send 127.0.0.1 $OPT "PROXY TCP6 2001:db8::9 2001:db8::1 40009 80\r\n$GET")
check "l7, optional: a header is taken" has "$out" "xff=2001:db8::9"
out=$(curl -s --max-time 5 --haproxy-protocol -H 'Host: a.test' "http://127.0.0.1:$L7/c")
check "curl --haproxy-protocol (v1) is understood" has "$out" "xff=127.0.0.1"

# --- layer 4 ---
send 127.0.0.1 $L4 "$SIG\x21\x11\x00\x0c\xcb\x00\x71\x09\xc0\x00\x02\x01\x9c\x49\x01\xbb$HELLO" 1 \
    >/dev/null
check "l4, trusted v2: the server's PROXY header carries the client" \
    wait_for 5 grep -q 'v2 ver_cmd=21 fam=11 len=12 203.0.113.9 192.0.2.1 40009 443' \
    "$WORK/b4/1.proxy"
check "... and it gets the ClientHello byte for byte" cmp -s "$WORK/b4/1.head" "$WORK/a.test.hello"
check "... and the log line names the client" \
    log_has 'client=203\.0\.113\.9:40009 listener=r4 sni=a\.test site=a\.test '
send 127.0.0.1 $L4 "PROXY TCP6 2001:db8::10 2001:db8::1 40010 443\r\n$HELLO" 1 >/dev/null
check "l4, trusted v1 (IPv6 client): the server's PROXY header carries it" \
    wait_for 5 grep -q 'v2 ver_cmd=21 fam=21 len=36 2001:db8::10 2001:db8::1 40010 443' \
    "$WORK/b4/2.proxy"
send 127.0.0.1 $L4 "$SIG\x20\x00\x00\x00$HELLO" 1 >/dev/null
check "l4, v2 LOCAL: the server's PROXY header carries the real peer" \
    wait_for 5 grep -q 'v2 ver_cmd=21 fam=11 len=12 127.0.0.1 127.0.0.1 [0-9]* 29640' \
    "$WORK/b4/3.proxy"
send ::1 $L4 "PROXY TCP4 203.0.113.66 192.0.2.1 40066 443\r\n$HELLO" 1 >/dev/null
check "l4, untrusted source with a header: refused" \
    log_has 'client=\[::1\]:[0-9]+ listener=r4 .*term=PR err=proxy-untrusted'
send 127.0.0.1 $L4 "$HELLO" 1 >/dev/null
check "l4, trusted source without a header: refused" \
    log_has 'listener=r4 .*term=PR err=proxy-missing'
send 127.0.0.1 $L4 "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n$HELLO" 1 >/dev/null
check "l4, garbage header: refused" log_has 'listener=r4 .*term=PR err=proxy-v1-syntax'
check "no refused connection reached the server" count_is 3 conns b4
check "the proxy is still running" kill -0 "$PROXY_PID"
finish
