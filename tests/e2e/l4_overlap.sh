#!/usr/bin/env bash
# A server's segment that overlaps what the proxy received already: the kernel queues it
# whole (recv() skips the overlap by the socket's read offset), so the kernel relay, which
# is handed whole segments, leaves the overlap out by the segments' sequence numbers; the
# client gets every byte once. The server is tools/tunserver.c, a TCP written by hand
# behind a TUN device, in a network namespace of the test's own. Both relays.
# Ports 29850-29869 (l4_overlap.yard).
set -euo pipefail
if [ -z "${L4_OVERLAP_NETNS:-}" ]; then
    if [ "$(id -u)" -ne 0 ] || ! [ -c /dev/net/tun ] ||
        ! unshare -n true 2>/dev/null; then
        echo "ok - # SKIP needs root, /dev/net/tun and a network namespace of its own"
        exit 0
    fi
    exec unshare -n env L4_OVERLAP_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib/common.sh"

ip link set lo up
BYTES=2000 OVERLAP=400

# serve: tunserver on the TUN device sy-tun0, which gets the proxy's side of fd00:5::/64.
# It answers 50 ms after the hello, by when the proxy has handed the server over to the
# kernel relay (a server that sends before then stays in user space).
serve() {
    start "$TOOLS/tunserver" -i sy-tun0 -a fd00:5::2 -p 29852 -n $BYTES -o $OVERLAP -d 50 \
        -t 10 >"$WORK/tunserver.out" 2>&1
    TUN_PID=$LAST_PID
    wait_for 5 ip link show sy-tun0 >/dev/null 2>&1 || { not_ok "the TUN device appears"; finish; }
    ip link set sy-tun0 up
    ip -6 addr add fd00:5::1/64 dev sy-tun0 nodad
}
# metric NAME: the front listener's NAME in a scrape of the metrics listener.
metric() { listener_metric 29851 "$1" front; }
# overlapped RELAY: one download from the server through the proxy, which relays with
# RELAY (the start line says which).
overlapped() {
    local out
    serve
    check "$1 relay: the server is reached through the TUN device" \
        wait_for 5 ip -6 route get fd00:5::2
    out=$("$TOOLS/client" -a 127.0.0.1 -p 29850 -n overlap.test -w 100 -u 0 -m respond \
        -e $BYTES -t 10 2>&1) || true
    check "$1 relay: $BYTES bytes in two segments that overlap by $OVERLAP, each byte once ($out)" \
        grep -q "recv=$BYTES " <<<"$out"
    check "... the server sent them as two overlapping segments, and saw the FIN" \
        wait "$TUN_PID"
    check "... logged with every byte counted once" \
        log_has "sni=overlap\.test .*s2c=$BYTES .*term=--"
    [ "$1" = kernel ] || return 0
    out=$(metric kernel_bytes_out)
    check "... by the kernel relay: $out bytes" test "$out" = $BYTES
}

proxy l4_overlap
if grep -q 'relay: kernel (sockmap)' "$PROXY_LOG"; then
    overlapped kernel
else
    ok "# SKIP the kernel relay cannot be loaded here: $(grep -o 'relay: .*' "$PROXY_LOG")"
fi
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
ip link del sy-tun0 2>/dev/null || true

PROXY_LOG=$WORK/user.log
SWITCHYARD_RELAY=user proxy l4_overlap
overlapped user
finish
