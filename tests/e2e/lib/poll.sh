# Sourced by the e2e scripts: waiting for a condition, and what the kernel queues.

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
    local acked received unread unacked
    acked=$(ss_info "$1" bytes_acked)
    received=$(ss_info "$2" bytes_received)
    unread=$(ss -Htn state established "( $3 )" | awk 'NR == 1 { print $1 }')
    unacked=$(ss -Htn state established "( $4 )" | awk 'NR == 1 { print $2 }')
    echo $((acked - received - ${unread:-0} - ${unacked:-0}))
}

# ss_info FILTER FIELD: a counter of tcp_info (bytes_acked, bytes_received) of the socket
# the filter selects; 0 if none.
ss_info() {
    ss -Htin state established "( $1 )" | { grep -o "$2:[0-9]*" || true; } |
        awk -F: 'NR == 1 { n = $2 } END { print n + 0 }'
}
