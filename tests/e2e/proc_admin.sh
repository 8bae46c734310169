#!/usr/bin/env bash
# The admin socket: created with its mode, show info / show stat / help / prompt / quit,
# idle sessions closed after the admin timeout, the socket removed on exit.
# Ports: 27843 (tls), 27880 (http), echo backend 27801.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

SOCK=/tmp/switchyard-e2e-proc-admin.sock
rm -f "$SOCK"
byte_backend echo 27801 -m echo
proxy proc-admin
admin() { "$TOOLS/probe" admin "$SOCK" "$@"; }
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

check "the admin socket exists once the proxy has started" test -S "$SOCK"
check "... with mode 0640 ($(stat -c %a "$SOCK"))" test "$(stat -c %a "$SOCK")" = 640
for i in 1 2 3; do c -a 127.0.0.1 -p 27843 -n echo.test -u 1000; done
c -a ::1 -p 27843 -n nosuch.test -m alert || true
admin "show info" >"$WORK/info"
digest=$("$BUILD/proc-admin/switchyard" --version | sed 's/.*config //')
check "show info: name and version" grep -qx 'Name: switchyard' "$WORK/info"
check "... the configuration digest, as --version prints it" grep -qx "Config-Digest: $digest" "$WORK/info"
check "... the pid" grep -qx "Pid: $PROXY_PID" "$WORK/info"
check "... workers and maxconn" grep -qx 'Workers: 1' "$WORK/info"
check "... maxconn" grep -qx 'Maxconn: 500' "$WORK/info"
check "... 4 connections so far, none open now" \
    sh -c "grep -qx 'CumConns: 4' '$WORK/info' && grep -qx 'CurrConns: 0' '$WORK/info'"
check "... uptime" grep -qE '^Uptime_sec: [0-9]+$' "$WORK/info"

start "$TOOLS/probe" hold -a 127.0.0.1 -p 27843 -f <("$TOOLS/client" -n echo.test -m dump) -c 2 -t 30 \
    >"$WORK/hold.out"
HOLD=$LAST_PID
wait_for 5 grep -q connected=2 "$WORK/hold.out"
check "show info counts open connections" wait_for 5 sh -c "'$TOOLS/probe' admin '$SOCK' 'show info' | grep -qx 'CurrConns: 2'"
kill -TERM "$HOLD"

admin "show stat" >"$WORK/stat"
check "show stat: a CSV header" \
    grep -qx '# type,name,status,conns,bytes_in,bytes_out,errors,down' "$WORK/stat"
check "... a row per listener: front accepted 6 connections" grep -qE '^listener,front,OPEN,6,' "$WORK/stat"
check "... web accepted none" grep -qx 'listener,web,OPEN,0,0,0,0,0' "$WORK/stat"
check "... a row per pool (per site)" grep -qE '^pool,echo\.test/tls,UP,' "$WORK/stat"
check "... a row per server" grep -qE '^server,echo\.test/tls/\[::1\]:27801,UP,' "$WORK/stat"
check "... 1 + 2 listener + 3 pool + 3 server rows" test "$(wc -l <"$WORK/stat")" -eq 9
# type,name,status,conns,bytes_in,bytes_out,errors,down
row_has() {     # TYPE NAME-REGEX AWK-CONDITION
    awk -F, -v t="$1" -v n="$2" '$1 == t && $2 ~ n { found = 1; if (!('"$3"')) bad = 1 }
        END { exit !(found && !bad) }' "$WORK/stat"
}
check "... the echo server counts its 3 connections and their bytes both ways" \
    row_has server '^echo\\.test/tls/' '$4 >= 3 && $5 > 0 && $6 > 0 && $8 == 0'
check "... and so does its pool (the site)" row_has pool '^echo\\.test/tls$' '$4 >= 3 && $5 > 0'
c -a 127.0.0.1 -p 27843 -n down.test -u 10 || true
admin "show stat" >"$WORK/stat"
check "a refused connect: the server is DOWN and counted down once" \
    row_has server '^down\\.test/tls/' '$3 == "DOWN" && $8 == 1'
check "... the site's pool counts the failed connection as an error" \
    row_has pool '^down\\.test/tls$' '$4 == 1 && $7 == 1'

admin "help" >"$WORK/help"
check "help lists the commands" sh -c "grep -q 'show info' '$WORK/help' && grep -q 'show stat' '$WORK/help' && grep -q quit '$WORK/help'"
admin "show nothing" >"$WORK/unknown"
check "an unknown command says so" grep -qx "Unknown command: 'show nothing'. Try 'help'." "$WORK/unknown"
check "several commands on one line, separated by ';'" \
    sh -c "'$TOOLS/probe' admin '$SOCK' 'show info; help' | grep -c -e '^Pid:' -e '^  quit' | grep -qx 2"
admin prompt "show info" quit >"$WORK/prompt"
check "interactive: prompt, show info, quit: answers with prompts, then closed" \
    sh -c "grep -q '^> Name: switchyard' '$WORK/prompt' && test \$(grep -c '^> ' '$WORK/prompt') -eq 2"
admin -w -t 5 prompt >"$WORK/idle"
ms=$(sed -n 's/^closed after //p' "$WORK/idle")
check "an idle interactive session is closed after the admin timeout of 1 s ($ms ms)" \
    test -n "$ms" -a "${ms:-0}" -ge 900 -a "${ms:-0}" -lt 3000
SESSIONS=()
for i in $(seq 1 10); do
    start "$TOOLS/probe" admin "$SOCK" -w -t 20 prompt >"$WORK/session.$i"
    SESSIONS+=("$LAST_PID")
done
check "10 sessions at once: the proxy keeps serving" c -a 127.0.0.1 -p 27843 -n echo.test -u 1000
wait "${SESSIONS[@]}" || true
check "... 8 (the limit) lasted until the idle timeout, the others were closed at once" \
    test "$(grep -l '^closed after 1[0-9][0-9][0-9]$' "$WORK"/session.* | wc -l)" -eq 8
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
check "the admin socket is removed on exit" test ! -e "$SOCK"
finish
