#!/usr/bin/env bash
# A WebSocket tunnel, once the server's 101 is through, goes to the relay that relays tls
# listeners' connections, the kernel relay included when the listener's `relay` asks for
# it: byte-exact both ways, half-close either way first, backpressure, resets, the
# tunnel timeout, and still one access line per exchange (status 101, the tunnel's bytes
# counted) and the metrics to match. tests/run.sh runs it with SWITCHYARD_RELAY=kernel
# too. Ports 29800-29849 (l7_tunnel.yard).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

MIB=$((1 << 20))
byte_backend echo 29801 -U -m echo
byte_backend respond 29802 -U -m respond -n $((4 * MIB))
byte_backend send 29803 -U -m send -n $((48 * MIB))
byte_backend deaf 29804 -U -m send -n $((48 * MIB))
byte_backend half 29805 -U -m half -n $((4 * MIB))
proxy l7_tunnel

# ws ARGS...: the test client through a WebSocket upgrade (tools/client.c -U).
ws() { "$TOOLS/client" -U "$@"; }
# field NAME TEXT: the value of NAME= in the client's result line.
field() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$2"; }
# metric NAME: its value in a scrape of the metrics listener; the second of two on one
# connection, which the open connections count (they are counted before the loop waits).
metric() {
    curl -s http://127.0.0.1:29845/metrics http://127.0.0.1:29845/metrics |
        awk -v n="$1" '$1 == n { v = $2 } END { print v }'
}

out=$(ws -a 127.0.0.1 -p 29843 -n echo.test -u $((8 * MIB)) -t 30) ||
    not_ok "8 MiB each way through the tunnel, byte-exact ($out)"
ok "8 MiB each way through the tunnel, byte-exact"
req=$(field req "$out")
head=$(field head "$out")
check "the server got the upgrade request, then exactly the 8 MiB" \
    wait_for 5 grep -qs "^bytes=$((8 * MIB)) " "$WORK/echo/1.done"
check "one access line, the layer-7 one, with status 101 and every byte counted" \
    log_has "l7 listener=ws host=echo\.test .*method=GET path=/chat status=101 in=$((req + 8 * MIB)) out=$((head + 8 * MIB)) .*term=--$"
check "... and no other" test "$(grep -c 'conn=' "$PROXY_LOG")" -eq 1
check "the listener's metrics count the exchange once, with its bytes" \
    eval 'test "$(metric "switchyard_listener_bytes_in_total{listener=\"ws\"}")" = $((req + 8 * MIB)) &&
          test "$(metric "switchyard_listener_bytes_out_total{listener=\"ws\"}")" = $((head + 8 * MIB)) &&
          test "$(metric "switchyard_pool_sessions_total{pool=\"echo.test/http\"}")" = 1'
check "8 MiB each way from an IPv6 client, byte-exact" \
    ws -a ::1 -p 29843 -n echo.test -u $((8 * MIB)) -t 20

# half_closed SITE WHAT SAW: the client sends 1 MiB and expects a 4 MiB answer through
# SITE's tunnel, one side's FIN coming first (WHAT); the server's record shows SAW, and the
# exchange ends normally with every byte counted.
half_closed() {
    local out
    out=$(ws -a 127.0.0.1 -p 29843 -n "$1.test" -u $MIB -m respond -e $((4 * MIB)) -t 20) ||
        not_ok "$2 ($out)"
    ok "$2"
    check "... the server saw $3" wait_for 5 grep -qs "^bytes=$MIB " "$WORK/$1/1.done"
    check "... logged as a normal end with its counts" \
        log_has "host=$1\.test .*status=101 in=$(($(field req "$out") + MIB)) out=$(($(field head "$out") + 4 * MIB)) .*term=--$"
}
# The client's first: its FIN reaches the server after its last byte, and the server's
# answer still flows back, then the server's FIN.
half_closed respond "the client half-closes after 1 MiB and still gets the whole 4 MiB answer" \
    "its EOF after exactly the 1 MiB"
# The server's first: its 4 MiB and FIN reach the client, whose 1 MiB still goes on.
half_closed half "the server half-closes after 4 MiB, the client's 1 MiB still gets through" \
    "exactly the 1 MiB, then the client's EOF"

# Backpressure (lib/poll.sh): a client that stops reading while the server sends 48 MiB
# (stalled, below); a client that sends 16 MiB to a server that reads nothing.
ws -a 127.0.0.1 -p 29843 -n deaf.test -u $((16 * MIB)) -m deaf -t 2 >/dev/null &
check "a server that does not read gets the client's bytes queued toward it" \
    wait_for 2 queued "dport = :29804"
sleep 0.3
bounded "$RELAY_HELD_MAX" "dport = :29843" "sport = :29804" "sport = :29843" "dport = :29804"
wait "$!" || true                   # the client gives up after 2 s

# A reset: a client that exits with the echo unread resets its connection.
out=$(ws -a 127.0.0.1 -p 29843 -n echo.test -u 65536 -m deaf -t 0.5) || true
check "a client's reset ends the tunnel, logged as the client's" \
    log_has "host=echo\.test .*status=101 in=$(($(field req "$out") + 65536)) .*term=CD err=read:ECONNRESET$"

# The tunnel timeout (3 s): bytes keep a tunnel alive, silence ends it.
req=$(ws -n echo.test -m dump | wc -c)
exec 5<>/dev/tcp/127.0.0.1/29843
ws -n echo.test -m dump >&5
for i in $(seq 1 12); do
    sleep 0.3
    printf 'x' >&5
done
check "a tunnel that moves a byte every 0.3 s outlives the 3 s limit" \
    eval '! grep -q "in=$((req + 12)) .*idle-timeout" "$PROXY_LOG"'
check "... and it is counted as open (the scrape's own connection is the other)" \
    test "$(metric switchyard_current_connections)" = 2
check "... silent, it is closed after the limit, blaming the side idle longest" \
    wait_for 5 grep -Eq "host=echo\.test .*status=101 in=$((req + 12)) .*term=cD err=idle-timeout$" "$PROXY_LOG"
exec 5<&-

# stalled PORT user|kernel: a client that stops reading while the server sends 48 MiB,
# through the listener on PORT, whose tunnels that relay moves. What the proxy holds is
# bounded. Through the kernel, the proxy holds megabytes of them in its socket toward the
# client and the kernel relay's queue, which only the kernel relay does (it lifts
# TCP_NOTSENT_LOWAT, its own queue being bounded): that says the tunnel went there.
# (The proxy's CPU time for a download, which tells the relays apart in l4_kernel.sh,
# does not here: with the upgrade's exchange, the cheapest of three 4 MiB downloads cost
# it 0.55 to 1.1 ms through the kernel, 1.0 to 2.4 ms through the proxy. Nor does either
# part alone: the kernel relay's queue held 16 KiB or 3.8 MiB depending on when the proxy
# moved its limit, and once the socket had nothing unsent.)
stalled() {
    local port=$1 relay=$2 client out name=ws kernel
    [ "$port" = 29843 ] || name=ws-kernel
    kernel=$(metric "switchyard_listener_kernel_bytes_out_total{listener=\"$name\"}")
    ws -a 127.0.0.1 -p "$port" -n send.test -w 2000 -u 0 -m respond -e $((48 * MIB)) -t 20 \
        >/dev/null &
    client=$!
    check "$relay relay: a client that does not read gets bytes queued toward it" \
        wait_for 2 queued "sport = :$port"
    sleep 0.3
    if [ "$relay" = kernel ]; then
        out=$(held_out "sport = :29803" "dport = :$port" "dport = :29803")
        check "... through the kernel relay: with its socket, the proxy holds $out bytes (over 1 MiB)" \
            test "$out" -gt "$MIB"
        bounded "$KERNEL_HELD_MAX" "sport = :29803" "dport = :$port" "dport = :29803" \
            "sport = :$port"
    else
        bounded "$HELD_MAX" "sport = :29803" "dport = :$port" "dport = :29803" "sport = :$port"
    fi
    check "... and once it reads, all 48 MiB arrive byte-exact" wait "$client"
    out=$(($(metric "switchyard_listener_kernel_bytes_out_total{listener=\"$name\"}") - kernel))
    if [ "$relay" = kernel ]; then
        check "... the metrics count $out of its bytes as the kernel relay's (over 1 MiB)" \
            test "$out" -gt "$MIB"
    else
        check "... the metrics count none of its bytes as the kernel relay's" test "$out" = 0
    fi
}

# ws takes the global's relay (user), ws-kernel the kernel's; SWITCHYARD_RELAY=kernel puts
# both in the kernel.
if ! grep -q 'relay: kernel (sockmap)' "$PROXY_LOG"; then
    ok "# SKIP the kernel relay cannot be loaded here: $(grep -o 'relay: .*' "$PROXY_LOG")"
    stalled 29843 user
elif [ "${SWITCHYARD_RELAY:-}" = kernel ]; then
    stalled 29843 kernel
else
    check "the start line says which http listeners use which relay" \
        grep -q 'relay: kernel (sockmap) for ws-kernel; user for ws$' "$PROXY_LOG"
    stalled 29843 user
    stalled 29844 kernel
fi

# The end of the grace period (1 s) closes a tunnel still open, with its line.
exec 5<>/dev/tcp/127.0.0.1/29843
ws -n echo.test -m dump >&5
printf 'yz' >&5
sleep 0.2
kill -TERM "$PROXY_PID"
sleep 0.2
printf 'w' >&5
got=
IFS= read -r -d '' -t 1 got <&5 || true
check "after SIGTERM an open tunnel still relays" test "${got: -3}" = yzw
set +e
wait "$PROXY_PID"
rc=$?
set -e
exec 5<&-
check "at the end of the grace period the proxy exits 0" test "$rc" -eq 0
check "... and logs the tunnel it closed (term=K-)" \
    log_has "host=echo\.test .*status=101 in=$((req + 3)) .*term=K-$"
finish
