#!/usr/bin/env bash
# The binary swap with two workers on each side: the new supervisor receives every worker's
# listening sockets (one SO_REUSEPORT set per worker), its workers start accepting, and the
# old workers drain and exit. A client hammering the listener through the swap sees no
# failure. Ports: 27943, echo backend 27901.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-proc-takeover-workers.sock
rm -f "$SOCK"
byte_backend echo 27901 -m echo
hello echo.test
proxy proc-takeover-workers
OLD=$PROXY_PID
OLD_LOG=$PROXY_LOG
check "the old supervisor runs two workers" wait_for 5 count_is 2 children "$OLD"
old_workers=$(ps -o pid= --ppid "$OLD" | tr -d ' ' | tr '\n' ' ')

hammer 27943
sleep 1

takeover proc-takeover-workers "$SOCK"
check "... with the old workers' 4 sockets (2 binds x 2 workers)" \
    grep -q 'takeover: 4 listening sockets received' "$NEW_LOG"
check "... none of them unwanted" sh -c "! grep -q 'no listener wants' '$NEW_LOG'"
check "... and tells the old process to stop accepting" \
    log_has 'takeover: the old process stopped accepting'
check "the new supervisor runs two workers" wait_for 5 count_is 2 children "$NEW"

wait "$HAMMER" || true
check "no connection failed during the swap: $(cat "$WORK/hammer.out")" \
    grep -qE '^ok=[1-9][0-9]* fail=0$' "$WORK/hammer.out"
check "both sides served some of the hammering" \
    sh -c "grep -q 'sni=echo.test' '$NEW_LOG' && grep -q 'sni=echo.test' '$OLD_LOG'"
check "the old supervisor exits once its workers have drained" \
    wait_for 10 sh -c "! kill -0 $OLD 2>/dev/null"
rc=0; wait "$OLD" || rc=$?
check "... exit status 0 (got $rc)" test "$rc" -eq 0
gone=1
for p in $old_workers; do kill -0 "$p" 2>/dev/null && gone=0; done
check "... and no old worker is left" test "$gone" = 1
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
check "the new process serves 27943 over IPv4" c -a 127.0.0.1 -p 27943 -n echo.test -u 1000
check "... and IPv6" c -a ::1 -p 27943 -n echo.test -u 1000
check "... from both its workers" \
    sh -c "for i in \$(seq 40); do '$TOOLS/client' -a 127.0.0.1 -p 27943 -n echo.test -u 10 >/dev/null || exit 1; done"
odd=$(grep -Ec 'conn=[0-9]*[13579] .*sni=echo.test' "$NEW_LOG" || true)
even=$(grep -Ec 'conn=[0-9]*[02468] .*sni=echo.test' "$NEW_LOG" || true)
check "... (worker 1: odd ids, worker 2: even ids: $odd odd, $even even)" \
    test "$odd" -gt 0 -a "$even" -gt 0
check "the admin socket is the new process's" \
    sh -c "'$TOOLS/probe' admin '$SOCK' 'show info' | grep -q '^Pid: '"
PROXY_PID=$NEW
stop_proxy
check "the new process exits 0 on SIGTERM (got $PROXY_RC)" test "$PROXY_RC" = 0
check "... and removes the admin socket" test ! -e "$SOCK"
finish
