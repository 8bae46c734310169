#!/usr/bin/env bash
# Running as a systemd service, with tests/e2e/tools/svcman playing the manager: the
# readiness datagrams ($NOTIFY_SOCKET), the listening sockets passed at start (LISTEN_FDS)
# and checked against the listeners, and ten reloads (SIGHUP to the master, which executes
# the binary installed at its path in the same process) under connection-per-request load
# on an http and a tls listener: no exchange fails, the main pid stays, and the new binary
# serves. A binary that cannot be executed, or that fails to start, leaves the running one
# serving. Ports 28650-28699: proxy 28680 (http) and 28643 (tls), HTTP backends 28651 (one)
# and 28652 (two), echo backend 28653.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

DIR=/tmp/switchyard-e2e-proc-service
RELOADS=${RELOADS:-10}
rm -rf "$DIR"
start "$TOOLS/httpd" -n one -p 28651 -t 120
start "$TOOLS/httpd" -n two -p 28652 -t 120
wait_for 10 tcp_open ::1 28651 && wait_for 10 tcp_open ::1 28652 ||
    { not_ok "the HTTP backends start"; exit 1; }
byte_backend echo 28653 -m echo
hello echo.test
printf 'GET /x HTTP/1.1\r\nHost: swap.test\r\nConnection: close\r\n\r\n' >"$WORK/req"
SY=$WORK/bin/switchyard
mkdir -p "$WORK/bin"
# install SITE: puts build/SITE/switchyard at $SY as a package upgrade does: a new file
# renamed over the path (the running binary cannot be written to).
install_site() { cp "$BUILD/$1/switchyard" "$SY.new" && mv -f "$SY.new" "$SY"; }
served_by() { curl -s -m 5 -H 'Host: swap.test' http://127.0.0.1:28680/ | grep -q "^server=$1 "; }
ready_count() { grep -c "READY=1" "$WORK/notify.out" || true; }

# ---- the sockets the manager passes must be the listeners' ----
install_site proc-service
activated() {
    local rc=0
    "$TOOLS/svcman" listen "$@" -- "$SY" --master >"$WORK/act.out" 2>&1 || rc=$?
    [ "$rc" -eq 1 ]
}
check "a socket no listener has stops the start" \
    activated -l 127.0.0.1:28680 -l 127.0.0.1:28643 -l 127.0.0.1:28699
check "... naming it: $(tail -1 "$WORK/act.out")" \
    grep -q 'LISTEN_FDS: socket 5 .*(127.0.0.1:28699) matches no listener' "$WORK/act.out"
check "a listener without its socket stops the start" activated -l 127.0.0.1:28680=web
check "... naming it: $(tail -1 "$WORK/act.out")" \
    grep -q 'listener front: no socket for 127.0.0.1:28643 among those passed' "$WORK/act.out"
check "a socket named after another listener stops the start" \
    activated -l 127.0.0.1:28680=front -l 127.0.0.1:28643=web
check "... naming it: $(tail -1 "$WORK/act.out")" \
    grep -q "socket 3 named 'front' (127.0.0.1:28680) is not a listening TCP socket on an address of listener front" \
    "$WORK/act.out"
check "a UDP socket stops the start" activated -l 127.0.0.1:28680 -u -l 127.0.0.1:28643
check "... naming it" grep -q "socket 4 'unknown' (127.0.0.1:28643) matches no listener" \
    "$WORK/act.out"

# ---- a single process: ready, status, SIGHUP ignored, stopping ----
start "$TOOLS/svcman" notify @switchyard-e2e-notify-$$ -t 60 >"$WORK/notify1.out"
wait_for 5 grep -q ready "$WORK/notify1.out" || { not_ok "the notify receiver starts"; exit 1; }
PROXY_LOG=$WORK/single.log
start env NOTIFY_SOCKET=@switchyard-e2e-notify-$$ "$SY" 2>"$PROXY_LOG"
PROXY_PID=$LAST_PID
check "a single process says READY=1 (abstract NOTIFY_SOCKET)" \
    wait_for 10 grep -q "^pid=$PROXY_PID READY=1 STATUS=serving 2 listeners, 0 connections" \
    "$WORK/notify1.out"
check "... it created the admin socket's directory, mode 755" \
    test "$(stat -c %a "$DIR/run" 2>/dev/null)" = 755 -a -S "$DIR/run/admin.sock"
kill -HUP "$PROXY_PID"
check "... SIGHUP is ignored, with a warning" log_has 'SIGHUP ignored: reloading needs the master'
check "... and it still serves" served_by one
stop_proxy
check "... SIGTERM: STOPPING=1, exit 0 (got $PROXY_RC)" \
    sh -c "[ '$PROXY_RC' = 0 ] && grep -q '^pid=$PROXY_PID STOPPING=1' '$WORK/notify1.out'"

# ---- the master, with the manager's sockets ----
rm -rf "$DIR"
start "$TOOLS/svcman" notify "$WORK/notify" -t 120 >"$WORK/notify.out"
wait_for 5 grep -q ready "$WORK/notify.out" || { not_ok "the notify receiver starts"; exit 1; }
PROXY_LOG=$WORK/proxy.log
start env NOTIFY_SOCKET="$WORK/notify" "$TOOLS/svcman" listen -l 127.0.0.1:28680=web \
    -l 127.0.0.1:28643 -- "$SY" --master 2>"$PROXY_LOG"
MAIN=$LAST_PID
PROXY_PID=$MAIN
check "the master says READY=1" wait_for 10 grep -q "^pid=$MAIN READY=1" "$WORK/notify.out"
check "... and its status" \
    wait_for 10 grep -q "^pid=$MAIN STATUS=serving 2 listeners with 1 workers, 0 connections$" \
    "$WORK/notify.out"
check "... with the manager's two sockets" \
    grep -q '2 listening sockets passed by the service manager' "$PROXY_LOG"
check "... it serves (binary one)" served_by one

secs=$((RELOADS + 3))
hammers 28680 4 28643 2 "$secs"
sleep 1
done_reloads=0
for n in $(seq 1 "$RELOADS"); do
    if [ $((n % 2)) = 1 ]; then install_site proc-service2; else install_site proc-service; fi
    kill -HUP "$MAIN"
    wait_for 10 count_is $((n + 1)) ready_count || break
    done_reloads=$n
    sleep 0.6
done
check "$RELOADS reloads under load, each ending in READY=1 ($done_reloads done)" \
    test "$done_reloads" -eq "$RELOADS"
check "... each announced with RELOADING=1" \
    test "$(grep -c "^pid=$MAIN RELOADING=1" "$WORK/notify.out")" -eq "$RELOADS"
hammers_check 4 2
check "the main pid is the same process" kill -0 "$MAIN"
check "... and every message to the manager came from it" \
    sh -c "! grep -v '^ready$' '$WORK/notify.out' | grep -qv '^pid=$MAIN '"
# The last binary installed has one worker (binary one) or two (binary two).
check "every worker of the previous images drained and exited" \
    wait_for 15 count_is $((RELOADS % 2 + 1)) children "$MAIN"
check "no old worker exited with an error" sh -c "! grep -q 'old worker.*exited with status\|old worker.*killed' '$PROXY_LOG'"

# ---- the new binary is what runs ----
install_site proc-service2
kill -HUP "$MAIN"
check "after installing binary two and a reload, two serves" wait_for 10 served_by two
digest=$("$BUILD/proc-service2/switchyard" --version | sed 's/.*config //')
check "... the admin socket reports its digest" \
    wait_for 5 sh -c "'$TOOLS/probe' admin '$DIR/run/admin.sock' 'show info' | grep -qx 'Config-Digest: $digest'"

# ---- a server in maintenance stays there across a reload ----
sy_admin() { "$TOOLS/probe" admin "$DIR/run/admin.sock" "$@"; }
maint_is() { sy_admin "show servers" | grep -qx "echo.test/tls/\[::1\]:28653,$1,.*"; }
check "disable server before a reload" \
    sh -c "'$TOOLS/probe' admin '$DIR/run/admin.sock' 'disable server echo.test/tls/[::1]:28653' | grep -qx OK"
check "... show servers says maint" maint_is maint
kill -HUP "$MAIN"
check "... after the reload it is still in maintenance" wait_for 10 log_has 'reload: 1 servers kept in maintenance'
check "... as show servers of the new image says" wait_for 5 maint_is maint
check "... enable server brings it back" \
    sh -c "'$TOOLS/probe' admin '$DIR/run/admin.sock' 'enable server echo.test/tls/[::1]:28653' | grep -qx OK"
check "... up again" wait_for 5 maint_is up

# ---- binaries that cannot take over ----
ready=$(ready_count)
printf 'not a binary\n' >"$SY.new" && chmod 755 "$SY.new" && mv -f "$SY.new" "$SY"
kill -HUP "$MAIN"
check "a file that cannot be executed: the reload fails, logged" \
    log_has "reload failed: $SY cannot be executed; this binary goes on serving"
check "... the manager is told: READY=1 and why" \
    wait_for 5 grep -q "^pid=$MAIN READY=1 STATUS=reload failed: $SY cannot be executed" \
    "$WORK/notify.out"
check "... and two still serves" served_by two

ready=$(ready_count)
start "$TOOLS/probe" hammer -H -a 127.0.0.1 -p 28680 -f "$WORK/req" -t 3 >"$WORK/bad.hammer"
BADHAMMER=$LAST_PID
install_site proc-service-bad
kill -HUP "$MAIN"
check "a binary that fails to start goes back to the previous one" \
    log_has 'reload: .* failed to start: going back to the previous binary'
check "... which logs it" \
    log_has 'reload failed: the new binary failed to start .* serves again'
check "... and says READY=1 again" wait_for 10 count_is $((ready + 1)) ready_count
check "... two still serves" served_by two
wait "$BADHAMMER" || true
check "... no request failed meanwhile: $(cat "$WORK/bad.hammer")" \
    grep -qE '^ok=[1-9][0-9]* fail=0' "$WORK/bad.hammer"
check "... same main pid" kill -0 "$MAIN"

fallbacks() { grep -c 'going back to the previous binary' "$PROXY_LOG" || true; }
if [ "$(id -u)" = 0 ]; then
    ready=$(ready_count)
    install_site proc-service-nouser
    kill -HUP "$MAIN"
    check "a binary whose workers cannot start (unknown user) goes back to the previous one" \
        wait_for 15 count_is 2 fallbacks
    check "... saying why" grep -q "unknown user 'no-such-user-sy'" "$PROXY_LOG"
    check "... and that its worker did not start" \
        grep -q '1 of 1 workers did not start serving' "$PROXY_LOG"
    check "... READY=1 again" wait_for 10 count_is $((ready + 1)) ready_count
    check "... two still serves" served_by two
    check "... its worker is gone; binary two's two workers serve" \
        wait_for 10 count_is 2 children "$MAIN"
else
    ok "# SKIP not root: a worker's privilege drop cannot fail"
fi

stop_proxy
check "SIGTERM: the master exits 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
check "... having said STOPPING=1" grep -q "^pid=$MAIN STOPPING=1" "$WORK/notify.out"
check "... and removed the admin socket" test ! -e "$DIR/run/admin.sock"
rm -rf "$DIR"
finish
