#!/usr/bin/env bash
# The QUIC relay's limits, with a synthetic client (tools/quicsend.c: a ClientHello sealed
# in Initial packets, one per datagram) and a real QUIC server (gtlsserver): a hello over
# three datagrams sent in reverse order, a hello never finished (inspect timeout), one
# larger than an undecided flow may hold, maxconn, idle flows ended with their sockets, and
# two connections from one client port to two names.
# Ports: 24843 (quic, 127.0.0.1 and [::1]), servers 24801, 24802 on [::1].
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

need_ngtcp2 gtlsserver
SOCK=/tmp/switchyard-e2e-quic-limits.sock

h3_backend alpha.test 24801
h3_backend beta.test 24802
proxy quic-limits

# send NAME [OPTIONS...]: the synthetic client through the proxy; its report in $WORK/send.
send() { "$TOOLS/quicsend" -a 127.0.0.1 -p 24843 -n "$@" >"$WORK/send"; }
dcid() { sed -n 's/^dcid=//p' "$WORK/send"; }
server_saw() { grep -q "dcid=$1 " "$WORK/alpha.test.log"; }
answered() { sed -n 's/^answered=//p' "$WORK/send"; }
stat() { "$TOOLS/probe" admin "$SOCK" "show stat" | awk -F, -v n="$1" '$1 == "listener" && $2 == n { print $7 }'; }
sockets() { find "/proc/$PROXY_PID/fd" -lname "socket:*" | wc -l; }
base=$(sockets)

send alpha.test -k 3000 -r -w 1
check "a hello over 3 datagrams sent in reverse order is routed: the server answers" \
    test "$(answered)" -gt 0
check "... the server got the client's Initials" server_saw "$(dcid)"
check "... logged with all 3 datagrams from the client" \
    log_has 'listener=lim sni=alpha\.test site=alpha\.test server=\[::1\]:24801 c2s=3600 .*term=--'

send alpha.test -k 3000 -d 2 -w 0
d=$(dcid)
check "a hello never finished ends at the inspect timeout" \
    log_has 'listener=lim sni=- site=- server=- c2s=2400 .*term=cR err=inspect-timeout'
check "... and nothing of it reached the server" sh -c "! grep -q 'dcid=$d ' '$WORK/alpha.test.log'"

send alpha.test -k 63000 -w 0
d=$(dcid)
check "a hello of 58 datagrams (over the 64 KiB an undecided flow may hold) is refused" \
    log_has 'listener=lim sni=- site=- .*term=PR err=too-large'
check "... and nothing of it reached the server" sh -c "! grep -q 'dcid=$d ' '$WORK/alpha.test.log'"

check "idle flows end and their sockets are closed" wait_for 5 count_is "$base" sockets
errors=$(stat lim)
send alpha.test -w 0
first=$(dcid)
"$TOOLS/quicsend" -a ::1 -p 24843 -n alpha.test -w 0 >"$WORK/send"
second=$(dcid)
send alpha.test -w 1
check "maxconn 2: a third client while two flows live is dropped" \
    test "$(answered)" -eq 0
check "... the server never saw it" sh -c "! grep -q 'dcid=$(dcid) ' '$WORK/alpha.test.log'"
check "... but saw the first two" sh -c "grep -q 'dcid=$first ' '$WORK/alpha.test.log' && grep -q 'dcid=$second ' '$WORK/alpha.test.log'"
check "... and the drop is counted" test "$(stat lim)" -gt "$errors"
check "the flows end when idle, with their sockets" wait_for 5 count_is "$base" sockets
send alpha.test -w 1
check "... then a new client is served" test "$(answered)" -gt 0

check "idle flows end (again)" wait_for 5 count_is "$base" sockets
send alpha.test -m beta.test -w 1
first=$(sed -n '1s/^dcid=//p' "$WORK/send")
second=$(sed -n '3s/^dcid=//p' "$WORK/send")
check "two connections from one client port: the first reaches the alpha server" \
    sh -c "grep -q 'dcid=$first ' '$WORK/alpha.test.log' && ! grep -q 'dcid=$first ' '$WORK/beta.test.log'"
check "... the second the beta server" \
    sh -c "grep -q 'dcid=$second ' '$WORK/beta.test.log' && ! grep -q 'dcid=$second ' '$WORK/alpha.test.log'"

stop_proxy
check "the proxy stops cleanly" test "$PROXY_RC" = 0
finish
