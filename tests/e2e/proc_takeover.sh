#!/usr/bin/env bash
# Seamless binary swap: a new binary started with --takeover receives the running one's
# listening sockets over its admin socket, starts accepting, and tells it to drain. A client
# hammering the listener through the swap sees no failure; a connection open across the
# swap finishes byte-exact on the old process, which then exits 0.
# Ports: 27843 (both), 27880 (old only), 27844 (new only), echo backend 27801.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-proc-admin.sock
MIB=$((1 << 20))
rm -f "$SOCK"
byte_backend echo 27801 -m echo
hello echo.test
proxy proc-admin
OLD=$PROXY_PID
OLD_LOG=$PROXY_LOG

# A connection that spans the swap: sends its hello, waits 3 s, then 8 MiB both ways.
start "$TOOLS/client" -a 127.0.0.1 -p 27843 -n echo.test -w 3000 -u $((8 * MIB)) -t 30 \
    >"$WORK/long.out"
LONG=$LAST_PID
wait_for 5 test -e "$WORK/echo/1.accepted"
hammer 27843
sleep 1

takeover proc-admin2 "$SOCK"
check "... with the old one's 3 sockets, the unwanted one (27880) closed" \
    sh -c "grep -q 'takeover: 3 listening sockets received' '$NEW_LOG' &&
           grep -q 'takeover: 1 sockets no listener wants, closed' '$NEW_LOG'"
check "... and tells the old one to stop accepting" \
    log_has 'takeover: the old process stopped accepting'
check "the old one closed its listeners on request" \
    grep -Eq 'takeover: closing listeners, [0-9]+ connections open' "$OLD_LOG"
check "the admin socket is now the new process's" \
    wait_for 5 sh -c "'$TOOLS/probe' admin '$SOCK' 'show info' | grep -qx 'Pid: $NEW'"
check "... with its own mode (0600)" test "$(stat -c %a "$SOCK")" = 600

wait "$HAMMER" || true
check "no connection failed during the swap: $(cat "$WORK/hammer.out")" \
    grep -qE '^ok=[1-9][0-9]* fail=0$' "$WORK/hammer.out"
check "both processes served some of the hammering" \
    sh -c "grep -q 'sni=echo.test' '$NEW_LOG' && test \$(grep -c 'sni=echo.test' '$OLD_LOG') -gt 1"
if wait "$LONG"; then ok "the connection open across the swap finished byte-exact ($(cat "$WORK/long.out"))"
else not_ok "the connection open across the swap finished byte-exact ($(cat "$WORK/long.out"))"; fi
check "... on the old process" grep -q "conn=1 .*c2s=$((8 * MIB + $(wc -c <"$WORK/echo.test.hello"))) .*term=--" "$OLD_LOG"
check "the old process exits 0 once it has drained" \
    sh -c "wait_old() { ! kill -0 $OLD 2>/dev/null; }; for i in \$(seq 100); do wait_old && exit 0; sleep 0.1; done; exit 1"
rc=0; wait "$OLD" || rc=$?
check "... exit status 0 (got $rc)" test "$rc" -eq 0
check "the old process left the admin socket in place" test -S "$SOCK"
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
check "the new process serves 27843" c -a ::1 -p 27843 -n echo.test -u 1000
check "... and its new listener 27844" c -a 127.0.0.1 -p 27844 -n echo.test -u 1000
check "27880, which it does not want, is closed" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/27880) 2>/dev/null"
PROXY_PID=$NEW
stop_proxy
check "the new process exits 0 on SIGTERM (got $PROXY_RC)" test "$PROXY_RC" = 0
check "... and removes the admin socket" test ! -e "$SOCK"
finish
