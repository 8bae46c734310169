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
    ss -Htin state established "( $1 )" |
        grep -o 'notsent:[0-9]*' | awk -F: '$2 > n { n = $2 } END { print n + 0 }'
}

# queued FILTER: some socket the filter selects has bytes waiting to be sent.
queued() { [ "$(unsent "$1")" -gt 0 ]; }
