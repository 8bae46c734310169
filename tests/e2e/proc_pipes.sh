#!/usr/bin/env bash
# Pipes count in the descriptor budget: under `ulimit -n 64`, maxconn is lowered so that
# the sockets of every connection and the pipes (one per 4 connections) fit. Clients that
# stop reading in the middle of a bulk download each pin their direction's pipe; past the pipe budget the
# others stay on buffers, and no descriptor runs out. Also prints how many bytes a stalled
# client (one that read a while, then stopped) pins in the proxy's pipe. Ports: 27443 (tls, site proc-robust), backend 27401
# sending 8 MiB at once.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

byte_backend send 27401 -m send -n 8388608
hello echo.test
proxy_ulimit 64 proc-robust
check "the descriptor limit lowers maxconn to what sockets and pipes need: (64 - 32 - 3) = 29 >= 2 * 11 + 2 * 3" \
    log_has 'maxconn 1000 lowered to 11: descriptor limit 64'
start "$TOOLS/probe" hold -a 127.0.0.1 -p 27443 -f "$WORK/echo.test.hello" -c 20 -t 30 \
    -r 1048576 >"$WORK/hold.out"
HOLD=$LAST_PID
check "20 clients connect" wait_for 10 grep -q '^connected=20$' "$WORK/hold.out"
check "11 of them reach the backend, which sends each 8 MiB" wait_for 10 count_is 11 conns send
check "... 11 read 1 MiB of it, then stop reading" wait_for 30 grep -q '^read=11$' "$WORK/hold.out"
sleep 1                                 # the relays fill up and stall
# The proxy's own pipes: both ends open in it (one end may come from the test's shell).
pipes=$(find "/proc/$PROXY_PID/fd" -mindepth 1 -lname 'pipe:*' -printf '%l\n' | sort | uniq -d | wc -l)
check "at most 3 pipes (6 descriptors) are open: $pipes pipes" test "$pipes" -le 3
check "... and stalled downloads hold them" test "$pipes" -ge 1
check "no descriptor ran out" sh -c "! grep -Eq 'Too many open files|EMFILE' '$PROXY_LOG'"
# What a stalled client pins in the proxy: the bytes waiting in each pipe (FIONREAD on the
# pipe, reopened through /proc).
python3 - "$PROXY_PID" <<'PY' || true
import fcntl, os, struct, sys, termios
pid = sys.argv[1]
seen = set()
for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int)[3:]:
    p = f"/proc/{pid}/fd/{fd}"
    link = os.readlink(p)
    if not link.startswith("pipe:") or link in seen:
        continue
    seen.add(link)
    try:
        f = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        continue
    n = struct.unpack("i", fcntl.ioctl(f, termios.FIONREAD, b"\0" * 4))[0]
    os.close(f)
    print(f"# {link}: {n} bytes in the pipe")
PY
kill -TERM "$HOLD"
check "the proxy is still running" kill -0 "$PROXY_PID"
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
