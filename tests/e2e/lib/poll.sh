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

# send_queue FILTER: the largest Send-Q (bytes not yet acknowledged by the peer) of the
# established TCP sockets that the ss(8) filter selects, e.g. "sport = :443"; 0 if none.
send_queue() {
    ss -Htn state established "( $1 )" | awk '$2 > q { q = $2 } END { print q + 0 }'
}

# queued FILTER: some socket the filter selects has bytes waiting to be sent.
queued() { [ "$(send_queue "$1")" -gt 0 ]; }
