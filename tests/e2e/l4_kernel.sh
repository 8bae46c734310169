#!/usr/bin/env bash
# `relay kernel`: once routed, what each side sends goes from socket to socket in the
# kernel (BPF sockhash and stream verdict) without waking the proxy, byte-exact; FINs,
# resets, the idle timeout and the log's byte counts stay as with the relay in user space.
# Without the rights to load it, or without bpf(), the proxy says so and relays in user
# space.
# Ports 29700-29749: proxies 29743, 29744-29746, metrics 29747, backends 29701 (echo),
# 29702 to 29704 (respond).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

MIB=$((1 << 20))
# cpu_us PID: the process's time on a CPU so far, in microseconds (the scheduler's count).
cpu_us() { awk '{ printf "%d\n", $1 / 1000 }' "/proc/$1/schedstat"; }

byte_backend echo 29701 -m echo
byte_backend respond 29702 -m respond -n $((4 * MIB))
byte_backend download 29703 -m respond -n $((64 * MIB))
byte_backend download16 29704 -m respond -n $((16 * MIB))

# Not root: no BPF; the proxy says why and relays in user space, byte for byte.
if command -v setpriv >/dev/null; then
    chmod 755 "$WORK"
    start setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$BUILD/l4_kernel/switchyard" 2>"$PROXY_LOG"
    PROXY_PID=$LAST_PID
    wait_for 10 grep -q ' started' "$PROXY_LOG" || not_ok "the proxy starts as nobody"
    check "without the rights for BPF it says which relay it uses and why" \
        grep -Eq 'relay: user \(bpf [a-z]+: Operation not permitted\)' "$PROXY_LOG"
    check "... and nothing more: libbpf's warnings stay out of the log" \
        bash -c '! grep -q libbpf "$1"' _ "$PROXY_LOG"
    check "... and relays in user space, byte-exact" \
        "$TOOLS/client" -a 127.0.0.1 -p 29743 -n echo.test -u $MIB -t 10
    kill "$PROXY_PID"
    wait "$PROXY_PID" 2>/dev/null || true
fi

# bpf() failing for another reason (ENOSYS, as without BPF in the kernel): what libbpf
# said comes first, on one line, then which relay is in use.
if command -v strace >/dev/null; then
    PROXY_LOG=$WORK/nobpf.log
    start strace -f -o /dev/null -e inject=bpf:error=ENOSYS "$BUILD/l4_kernel/switchyard" \
        2>"$PROXY_LOG"
    wait_for 10 grep -q ' started' "$PROXY_LOG" || not_ok "the proxy starts without bpf()"
    check "without bpf() it relays in user space and says why" \
        grep -q 'relay: user (bpf load: Function not implemented)$' "$PROXY_LOG"
    check "... after what libbpf said, on one line" \
        grep -q 'libbpf: .*Function not implemented.*libbpf: failed to load object' "$PROXY_LOG"
    kill $(ps -o pid= --ppid "$LAST_PID") 2>/dev/null
    wait "$LAST_PID" 2>/dev/null || true
    PROXY_LOG=$WORK/proxy.log
fi

proxy l4_kernel
if ! grep -q 'relay: kernel (sockmap)' "$PROXY_LOG"; then
    ok "# SKIP the kernel relay cannot be loaded here: $(grep -o 'relay: .*' "$PROXY_LOG")"
    finish
fi
ok "the proxy says it relays in the kernel"

before=$(cpu_us "$PROXY_PID")
check "64 MiB from the server after the client's half-close, byte-exact" \
    "$TOOLS/client" -a 127.0.0.1 -p 29743 -n download.test -u 0 -m respond -e $((64 * MIB)) -t 30
echo "# the proxy's CPU for it: $(($(cpu_us "$PROXY_PID") - before)) µs"
n=$(hello_len echo.test)
check "64 MiB each way, byte-exact" \
    "$TOOLS/client" -a 127.0.0.1 -p 29743 -n echo.test -w 100 -u $((64 * MIB)) -t 30
check "the log counts every byte both ways" \
    log_has "sni=echo\.test .*c2s=$((n + 64 * MIB)) s2c=$((n + 64 * MIB)) .*term=--"
check "8 MiB each way from an IPv6 client, byte-exact" \
    "$TOOLS/client" -a ::1 -p 29743 -n echo.test -u $((8 * MIB)) -t 20

half_close 29743

# A reset: a client that exits with the echo unread resets its connection; the proxy
# closes the server side and logs the reset.
last=$(conns echo)
"$TOOLS/client" -a 127.0.0.1 -p 29743 -n echo.test -u 65536 -m deaf -t 0.5 >/dev/null || true
check "a client's reset ends the connection, logged as the client's" \
    log_has "sni=echo\.test .*c2s=$(($(hello_len echo.test) + 65536)) .*term=CD err=read:ECONNRESET"
check "... and the server sees it end" \
    wait_for 5 test -e "$WORK/echo/$((last + 1)).done"

# Idle timeout (timeout tunnel 1s): bytes the kernel relays keep the connection alive;
# silence ends it after a second.
exec 5<>/dev/tcp/127.0.0.1/29743
"$TOOLS/client" -n echo.test -m dump >&5
for i in 1 2 3 4 5 6 7 8; do
    sleep 0.3
    printf 'x' >&5
done
check "a connection that sends a byte every 0.3 s outlives the 1 s idle limit" \
    bash -c 'sleep 0.2; ! grep -q "c2s=$1 .*idle-timeout" "$2"' _ "$((n + 8))" "$PROXY_LOG"
check "... silent, it is closed after the limit, blaming the side idle longest" \
    log_has "sni=echo\.test .*c2s=$(($(hello_len echo.test) + 8)) s2c=$(($(hello_len echo.test) + 8)) .*term=cD err=idle-timeout"
exec 5<&-
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true

# The relay chosen per listener (l4_kernel_listeners.yard: `relay auto` in global, k-front
# `relay kernel`, u-front `relay user`, inherit-front the global's). Which relay moved an
# exchange shows in the listener's metrics: the kernel relay's bytes are counted apart,
# each way. The proxy's CPU time per exchange is printed too, not checked: on a loaded
# machine the two relays' overlap (make bench compares them).
unset SWITCHYARD_RELAY
# metric NAME LISTENER: the listener's NAME in a scrape of the metrics listener.
metric() { listener_metric 29747 "$1" "$2"; }
# exchange PORT: 16 MiB to the server, then 16 MiB from it once the client half-closed,
# byte-exact, through the proxy's listener on PORT, three times, printing the proxy's CPU
# time for each. The client's bytes come 0.1 s after its hello, as a TLS client's would
# come after the handshake: a client whose FIN came before the hand-over stays in user
# space (a socket no longer established cannot join a sockhash), which on a loaded
# machine a FIN right behind the hello did for every download.
exchange() {
    local before i
    for i in 1 2 3; do
        before=$(cpu_us "$PROXY_PID")
        "$TOOLS/client" -a 127.0.0.1 -p "$1" -n download.test -w 100 -u $((16 * MIB)) \
            -m respond -e $((16 * MIB)) -t 30 >/dev/null || return 1
        echo "# the proxy's CPU for exchange $i: $(($(cpu_us "$PROXY_PID") - before)) µs"
    done
}
# relayed_by LISTENER PORT user|kernel: its exchanges are relayed, byte-exact, by that
# relay: through the kernel, megabytes of them each way (all 48 MiB on a quiet machine;
# the relay here takes over while a receiver is further behind than the kernel may
# queue), none through the relay here.
relayed_by() {
    local way bytes kernel
    check "$1 ($3): 16 MiB each way, three times, byte-exact" exchange "$2"
    for way in in out; do
        bytes=$(metric "bytes_$way" "$1")
        kernel=$(metric "kernel_bytes_$way" "$1")
        if [ "$3" = kernel ]; then
            check "... through the kernel: $kernel of $bytes bytes $way by the kernel relay (over 1 MiB)" \
                test "${kernel:-0}" -gt "$MIB"
        else
            check "... through the proxy: $bytes bytes $way, none by the kernel relay" \
                test "${kernel:-1}" = 0
        fi
        check "... and every byte $way counted" test "${bytes:-0}" -ge $((3 * 16 * MIB))
    done
}

PROXY_LOG=$WORK/listeners.log
proxy l4_kernel_listeners
check "the start line says which listeners use which relay" \
    grep -q 'relay: kernel (sockmap) for inherit-front, k-front; user for u-front$' "$PROXY_LOG"
relayed_by k-front 29744 kernel
relayed_by u-front 29745 user
relayed_by inherit-front 29746 kernel
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true

# SWITCHYARD_RELAY overrides every listener's choice.
PROXY_LOG=$WORK/listeners-user.log
SWITCHYARD_RELAY=user proxy l4_kernel_listeners
check "SWITCHYARD_RELAY=user: the start line says user" grep -q 'relay: user (configured)$' "$PROXY_LOG"
relayed_by k-front 29744 user
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
PROXY_LOG=$WORK/listeners-kernel.log
SWITCHYARD_RELAY=kernel proxy l4_kernel_listeners
check "SWITCHYARD_RELAY=kernel: the start line says kernel, for all" \
    grep -q 'relay: kernel (sockmap)$' "$PROXY_LOG"
relayed_by u-front 29745 kernel
finish
