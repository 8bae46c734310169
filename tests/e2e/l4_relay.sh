#!/usr/bin/env bash
# Layer 4: the relay moves every byte both ways, in order, with backpressure and half-close,
# and a SIGTERM lets open connections finish.
# Ports: 25443 (proxy, 127.0.0.1 and [::1]), backends 25401 (echo), 25402 (respond),
# 25403 to 25405 (send).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

MIB=$((1 << 20))
byte_backend echo 25401 -m echo
byte_backend respond 25402 -m respond -n $((4 * MIB))
byte_backend send 25403 -m send -n $((48 * MIB))
byte_backend deaf 25404 -m send -n $((48 * MIB))
byte_backend flood 25405 -m send -n $((256 * MIB))
proxy l4_relay

check "64 MiB each way through the proxy from an IPv4 client, byte-exact" \
    "$TOOLS/client" -a 127.0.0.1 -p 25443 -n echo.test -u $((64 * MIB)) -t 30
n=$(hello_len echo.test)
check "the backend received exactly the hello and the 64 MiB" \
    wait_for 5 grep -q "^bytes=$((n + 64 * MIB)) " "$WORK/echo/1.done"
check "8 MiB each way from an IPv6 client, byte-exact" \
    "$TOOLS/client" -a ::1 -p 25443 -n echo.test -u $((8 * MIB)) -t 20

half_close 25443

# Backpressure: a peer that stops reading must stop the other side, with what the proxy
# holds bounded (RELAY_HELD_MAX, RELAY_UNSENT_MAX: lib/poll.sh).

# A client that stops reading while the server sends 48 MiB (more than the kernel relay
# may hold).
"$TOOLS/client" -a 127.0.0.1 -p 25443 -n send.test -w 3000 -u 0 -m respond -e $((48 * MIB)) \
    -t 20 >/dev/null &
client=$!
check "a client that does not read gets bytes queued toward it" wait_for 2 queued "sport = :25443"
sleep 0.5
bounded "$RELAY_HELD_MAX" "sport = :25403" "dport = :25443" "dport = :25403" "sport = :25443"
check "... and once it reads, all 48 MiB arrive byte-exact" wait "$client"

# The other way: a client that sends 16 MiB and reads nothing, to that same server,
# which reads nothing while its own 48 MiB are not taken. The client's bytes follow once
# the server's are queued (both at once is the case below, where neither reads).
"$TOOLS/client" -n send.test -m dump >"$WORK/hello"
exec 5<>/dev/tcp/127.0.0.1/25443
{ cat "$WORK/hello"; sleep 0.5; head -c $((16 * MIB)) /dev/zero; } >&5 2>/dev/null &
writer=$!
check "a server that does not read gets bytes queued toward it" \
    wait_for 2 queued "dport = :25403"
sleep 0.5
bounded "$RELAY_HELD_MAX" "dport = :25443" "sport = :25403" "sport = :25443" "dport = :25403"
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
exec 5<&-

# Neither reads, and both go on sending: a client that sends more than the kernel relay
# may keep (twice net.ipv4.tcp_rmem's last figure and 2 MiB, beyond its queue) and then
# 64 MiB, to a server that sends 256 MiB. The relay in user space holds its buffers full
# and waits. Through the kernel, what it keeps for user space of each waits behind what
# it queued toward that socket, where it does not close the window, so the kernel relay
# ends the connection past that bound (docs/runtime.md, "Neither side reading").
rmem_max=$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_rmem)
exec 5<>/dev/tcp/127.0.0.1/25443
"$TOOLS/client" -n flood.test -m dump >&5
head -c $((2 * rmem_max + (16 + 2 + 64) * MIB)) /dev/zero >&5 2>/dev/null &
writer=$!
if [ "${SWITCHYARD_RELAY:-}" = kernel ]; then
    check "neither side reading, both sending: the kernel relay ends the connection" \
        wait_for 10 grep -Eq "sni=flood\.test .*term=[CS]D err=relay-full$" "$PROXY_LOG"
else
    sleep 3
    check "neither side reading, both sending: the connection stays open" \
        bash -c '! grep -q "sni=flood\.test" "$1"' _ "$PROXY_LOG"
fi
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
exec 5<&-

# The same from the first byte: a client that sends 2 MiB in writes of 1000 bytes, 1 ms
# apart, so that no read of the proxy ever fills a buffer, and reads nothing; to
# another server (held() reads the first socket each filter selects, and the
# connection above may still be open).
"$TOOLS/client" -a 127.0.0.1 -p 25443 -n deaf.test -u $((2 * MIB)) -s 1000 -m deaf -t 10 \
    >/dev/null &
client=$!
check "a server that does not read gets a slow client's bytes queued toward it" \
    wait_for 2 queued "dport = :25404"
cport=$(ss -Htnp state established "( dport = :25443 )" | grep "pid=$client," |
    awk '{ print $3 }' | sed 's/.*://')
max_held=0 max_unsent=0
for i in $(seq 1 30); do
    h=$(held "dport = :25443 and sport = :$cport" "sport = :25404" \
        "sport = :25443 and dport = :$cport" "dport = :25404")
    q=$(unsent "dport = :25404")
    [ "$h" -le "$max_held" ] || max_held=$h
    [ "$q" -le "$max_unsent" ] || max_unsent=$q
    sleep 0.1
done
check "... the proxy holds at most $RELAY_HELD_MAX bytes of them at any time ($max_held)" \
    test "$max_held" -le "$RELAY_HELD_MAX"
check "... at most $RELAY_UNSENT_MAX bytes of them unsent in the proxy's socket at any time ($max_unsent)" \
    test "$max_unsent" -le "$RELAY_UNSENT_MAX"
kill "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true

pids=()
for i in $(seq 1 16); do
    "$TOOLS/client" -a ::1 -p 25443 -n echo.test -u $MIB -t 20 >/dev/null & pids+=($!)
done
failures=0
for p in "${pids[@]}"; do wait "$p" || failures=$((failures + 1)); done
check "16 concurrent clients of 1 MiB each, all byte-exact" test "$failures" -eq 0

# Graceful stop: a connection open at SIGTERM keeps working, new ones are refused.
n=$(hello_len echo.test)
last=$(conns echo)
"$TOOLS/client" -a 127.0.0.1 -p 25443 -n echo.test -w 1500 -u 1000 -t 10 >/dev/null &
client=$!
wait_for 5 test -e "$WORK/echo/$((last + 1)).head"
kill -TERM "$PROXY_PID"
check "after SIGTERM the listeners are closed" \
    wait_for 5 bash -c '! (exec 4<>/dev/tcp/127.0.0.1/25443) 2>/dev/null'
check "the connection open at SIGTERM still completes, byte-exact" wait "$client"
set +e
wait "$PROXY_PID"
rc=$?
set -e
check "then the proxy exits 0" test "$rc" -eq 0
check "it is logged as a normal end" log_has "c2s=$((n + 1000)) s2c=$((n + 1000)) .*term=--"
finish
