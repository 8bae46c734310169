#!/usr/bin/env bash
# Who may do what on the admin socket: root and the proxy's own user everything, the
# hand-over (_getsocks, _drain) included; any other user the socket's mode lets in gets
# the socket's level (operator: show commands; admin: also shutdown). Idle sessions
# cannot make a takeover fail, and a peer that asks for the sockets but never reads does
# not stall the proxy. Ports: 28353 (tls), echo backend 28351.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root, the user nobody and setpriv"
    exit 0
fi
SOCK=/tmp/switchyard-e2e-proc-trust.sock
rm -f "$SOCK"
byte_backend echo 28351 -m echo
admin() { "$TOOLS/probe" admin "$SOCK" "$@"; }
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$TOOLS/probe" admin "$SOCK" "$@"; }
c() { "$TOOLS/client" -a 127.0.0.1 -p 28353 -n echo.test -u 1000 -t 3 >"$WORK/client.out"; }
proxy proc-trust

nobody "show info" >"$WORK/n.info"
check "another user reads show info at level operator" grep -qx "Pid: $PROXY_PID" "$WORK/n.info"
nobody "show stat" >"$WORK/n.stat"
check "... and show stat" grep -q '^listener,front,OPEN,' "$WORK/n.stat"
nobody help >"$WORK/n.help"
check "... help lists the show commands, not shutdown" \
    sh -c "grep -q 'show stat' '$WORK/n.help' && ! grep -q shutdown '$WORK/n.help'"
for cmd in _getsocks _drain shutdown; do
    nobody "$cmd" >"$WORK/n.out"
    check "... '$cmd' is refused: $(head -c 40 "$WORK/n.out")" grep -qx 'Permission denied' "$WORK/n.out"
done
check "... each refusal is logged with the uid" \
    test "$(grep -c "admin: '[_a-z]*' refused to uid $(id -u nobody)" "$PROXY_LOG")" -eq 3
check "... and the proxy still accepts" sh -c "'$TOOLS/probe' admin '$SOCK' 'show info' | grep -qx 'Accepting: 1'"
admin help >"$WORK/r.help"
check "root's help lists shutdown" grep -q '^  shutdown ' "$WORK/r.help"

# Every session taken: 8 idle ones of root, 2 more of nobody (refused at once).
SESSIONS=()
for i in 1 2 3 4 5 6 7 8; do
    start "$TOOLS/probe" admin "$SOCK" -w -t 20 prompt >"$WORK/session.$i"
    SESSIONS+=("$LAST_PID")
done
wait_for 5 sh -c "'$TOOLS/probe' admin '$SOCK' 'show info' >/dev/null" || true
for i in 9 10; do
    start setpriv --reuid=nobody --regid=nogroup --clear-groups "$TOOLS/probe" admin "$SOCK" \
        -w -t 20 prompt >"$WORK/session.$i"
done
sleep 0.5
OLD=$PROXY_PID
takeover proc-trust "$SOCK"
check "... with 8 idle sessions open, the takeover went through" \
    log_has 'takeover: the old process stopped accepting'
check "the old process exits 0" wait_for 10 sh -c "! kill -0 $OLD 2>/dev/null"
PROXY_PID=$NEW

# Peers that ask for the sockets again and again and never read what comes back.
GREEDY=()
for i in 1 2 3 4; do
    start "$TOOLS/probe" admin "$SOCK" -s -t 8 prompt $(printf '_getsocks %.0s' $(seq 300)) \
        >"$WORK/greedy.$i"
    GREEDY+=("$LAST_PID")
done
wait_for 5 sh -c "grep -q sent '$WORK'/greedy.4" || true
sleep 1
t0=$(date +%s%N)
check "with 4 of them, the proxy serves a connection at once" c
check "... and answers show info" sh -c "'$TOOLS/probe' admin '$SOCK' -t 2 'show info' | grep -qx 'Pid: $NEW'"
ms=$((($(date +%s%N) - t0) / 1000000))
check "... within 1 s ($ms ms)" test "$ms" -lt 1000
kill "${GREEDY[@]}"    # the sockets they were sent, unread, keep the listener bound
wait "${GREEDY[@]}" || true
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0

# Level admin: another user may stop the proxy, still not take its sockets.
check "the level is part of the configuration the binary prints (and its digest)" \
    sh -c "'$BUILD/proc-trust-admin/switchyard' --print-config | grep -q ' mode 0666 level admin '"
PROXY_LOG=$WORK/admin-level.log
proxy proc-trust-admin
nobody _getsocks >"$WORK/n.out"
check "level admin: another user still cannot take the sockets" grep -qx 'Permission denied' "$WORK/n.out"
nobody shutdown >"$WORK/n.out"
check "... but may shut the proxy down: $(head -c 20 "$WORK/n.out")" grep -qx OK "$WORK/n.out"
rc=0
wait_for 10 sh -c "! kill -0 $PROXY_PID 2>/dev/null" && { wait "$PROXY_PID" || rc=$?; } || rc=timeout
check "... which exits 0 (got $rc)" test "$rc" = 0
finish
