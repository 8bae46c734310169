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
# buffer, ~4 MiB). The kernel relay (server to client; the client's bytes go through user
# space) queues at most 16 MiB (KRELAY_QUEUE_MAX, a lone connection's share) beyond what
# the client's socket took, then keeps the server's bytes in the server's socket for the
# relay in user space; the proxy's socket toward the client keeps unsent up to the
# kernel's send buffer (4 MiB, net.ipv4.tcp_wmem) (docs/runtime.md, "Kernel relay").
HELD_MAX=$((256 * 1024 + 64 * 1024))
KERNEL_HELD_MAX=$((41 * (1 << 20) / 2))
if [ "${SWITCHYARD_RELAY:-}" = kernel ]; then
    TO_CLIENT_MAX=$KERNEL_HELD_MAX
else
    TO_CLIENT_MAX=$HELD_MAX
fi

# bounded MAX SENDER RECEIVER IN OUT: checks what the proxy holds (at most MAX) and keeps
# unsent (the ss filters of held()).
bounded() {
    local max=$1 h q
    shift
    h=$(held "$@")
    q=$(unsent "$4")
    check "... the proxy holds at most $max bytes of them ($h)" test "$h" -le "$max"
    if [ "$max" -le "$HELD_MAX" ]; then
        check "... at most 128 KiB of them unsent in the proxy's socket ($q)" \
            test "$q" -le 131072
    fi
}
