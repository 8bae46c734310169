# Sourced by the e2e scripts: waiting for a condition, and what the kernel and the proxy
# queue.

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds or the deadline passes.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# unsent FILTER: the most bytes that one of the established TCP sockets the ss(8) filter
# selects (e.g. "sport = :443") holds not yet sent (tcpi_notsent_bytes; bytes in flight
# are not counted); 0 if none.
unsent() {
    ss -Htin state established "( $1 )" | { grep -o 'notsent:[0-9]*' || true; } |
        awk -F: '$2 > n { n = $2 } END { print n + 0 }'
}

# queued FILTER: some socket the filter selects has bytes waiting to be sent.
queued() { [ "$(unsent "$1")" -gt 0 ]; }

# held SENDER RECEIVER IN OUT: for bytes going from the socket that ss(8) filter SENDER
# selects, through the proxy, to the socket RECEIVER selects, what the proxy holds beyond
# its two sockets' queues (IN: its socket facing the sender, whose unread bytes count
# apart; OUT: the one facing the receiver, whose unacknowledged bytes do): the relay's
# buffers, or the kernel relay's queue. A few bytes more or less while some are in flight.
held() {
    local unacked
    unacked=$(ss -Htn state established "( $4 )" | awk 'NR == 1 { print $2 }')
    echo $(($(held_out "$1" "$2" "$3") - ${unacked:-0}))
}

# held_out SENDER RECEIVER IN: what held() counts, and what the proxy's socket toward the
# receiver keeps unacknowledged too.
held_out() {
    local acked received unread
    acked=$(ss_info "$1" bytes_acked)
    received=$(ss_info "$2" bytes_received)
    unread=$(ss -Htn state established "( $3 )" | awk 'NR == 1 { print $1 }')
    echo $((acked - received - ${unread:-0}))
}

# ss_info FILTER FIELD: a counter of tcp_info (bytes_acked, bytes_received) of the socket
# the filter selects; 0 if none.
ss_info() {
    ss -Htin state established "( $1 )" | { grep -o "$2:[0-9]*" || true; } |
        awk -F: 'NR == 1 { n = $2 } END { print n + 0 }'
}

# What the proxy may hold of a direction whose receiver stopped reading, beyond its two
# sockets' queues (held, above): the relay's pipe (256 KiB) and a little in flight.
# Its socket toward the receiver also keeps at most SEND_LOWAT (16 KiB) unsent plus one
# segment of up to 64 KiB (without the option the kernel queued the whole autotuned send
# buffer, ~4 MiB). The kernel relay queues at most 16 MiB (KRELAY_QUEUE_MAX, a lone
# direction's share) beyond what the receiver's socket took, then keeps the sender's bytes
# in the sender's socket for the relay in user space; the proxy's socket toward the
# receiver keeps unsent up to the kernel's send buffer (net.ipv4.tcp_wmem, 4 MiB) and what
# a last write may take beyond it, a few segments (docs/runtime.md, "Kernel relay"). RELAY_*: the relay that SWITCHYARD_RELAY chooses.
HELD_MAX=$((256 * 1024 + 64 * 1024))
UNSENT_MAX=$((128 * 1024))
KERNEL_HELD_MAX=$((41 * (1 << 20) / 2))
KERNEL_UNSENT_MAX=$(($(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem 2>/dev/null ||
    echo $((4 << 20))) + 256 * 1024))
if [ "${SWITCHYARD_RELAY:-}" = kernel ]; then
    RELAY_HELD_MAX=$KERNEL_HELD_MAX RELAY_UNSENT_MAX=$KERNEL_UNSENT_MAX
else
    RELAY_HELD_MAX=$HELD_MAX RELAY_UNSENT_MAX=$UNSENT_MAX
fi

# bounded MAX SENDER RECEIVER IN OUT: checks what the proxy holds (at most MAX, one of the
# *HELD_MAX above) and keeps unsent (the matching *UNSENT_MAX) (the ss filters of held()).
bounded() {
    local max=$1 h q unsent_max=$UNSENT_MAX
    shift
    [ "$max" -le "$HELD_MAX" ] || unsent_max=$KERNEL_UNSENT_MAX
    h=$(held "$@")
    q=$(unsent "$4")
    check "... the proxy holds at most $max bytes of them ($h)" test "$h" -le "$max"
    check "... at most $unsent_max bytes of them unsent in the proxy's socket ($q)" \
        test "$q" -le "$unsent_max"
}
