#!/usr/bin/env bash
# At maxconn, the keep-alive client that has waited idle the longest is closed to admit a
# new one (tests/e2e/l7-idle.yard: maxconn 3, timeout client 20s).
# Run from the repository root: BUILD=build bash tests/e2e/l7_idle.sh
set -euo pipefail

BUILD=${BUILD:-build}
SY=$BUILD/l7-idle/switchyard
HTTPD=$BUILD/tools/httpd
P=127.0.0.1
PORT=25380

for f in "$SY" "$HTTPD"; do
    [ -x "$f" ] || { echo "not ok - $f is missing (make SITE=tests/e2e/l7-idle.yard)"; exit 1; }
done

tmp=$(mktemp -d)
pids=()
failed=0
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}

wait_tcp() {
    local deadline=$((SECONDS + 5))
    until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "not ok - nothing listens on $1:$2"; exit 1; }
        sleep 0.05
    done
}

"$HTTPD" -n one -p 25351 -t 60 2>>"$tmp/backend.err" &
pids+=($!)
"$SY" 2>"$tmp/proxy.log" &
sy_pid=$!
pids+=($sy_pid)
wait_tcp ::1 25351
# wait_tcp's own probe connections come and go before the clients below.
wait_tcp $P $PORT
sleep 0.3

# ask FD PATH: one keep-alive request on descriptor FD; its answer is read (0.5 s) into
# $tmp/FD.out, and the connection stays open.
ask() {
    printf 'GET %s HTTP/1.1\r\nHost: one.test\r\n\r\n' "$2" >&"$1"
    timeout 0.5 cat <&"$1" >"$tmp/$1.out" || true
}
exec 5<>"/dev/tcp/$P/$PORT"
ask 5 /first
exec 6<>"/dev/tcp/$P/$PORT"
ask 6 /second
exec 7<>"/dev/tcp/$P/$PORT"
ask 7 /third
check "three keep-alive clients answered" \
    test "$(cat "$tmp"/5.out "$tmp"/6.out "$tmp"/7.out | grep -c '^HTTP/1.1 200')" -eq 3

start=$(date +%s%N)
out=$(curl -s --max-time 10 "http://$P:$PORT/fourth" -H 'Host: one.test' || true)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a fourth client at maxconn 3 is served" grep -q 'path=/fourth' <<<"$out"
check "... promptly (${ms} ms, timeout client 20 s)" test "$ms" -lt 3000

start=$(date +%s%N)
rc=0
got=$(timeout 3 cat <&5 2>&1) || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "the oldest idle client sees a clean close (EOF, no reset, rc=$rc, ${ms} ms)" \
    test "$rc" -eq 0 -a -z "$got" -a "$ms" -lt 2000
rc=0
timeout 0.5 cat <&7 >/dev/null 2>&1 || rc=$?
check "the newest idle client is still open" test "$rc" -eq 124
ask 7 /again
check "... and is served on its connection" grep -q 'path=/again' "$tmp/7.out"
exec 5<&- 6<&- 7<&-

kill -TERM "$sy_pid"
deadline=$((SECONDS + 5))
while kill -0 "$sy_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
rc=0
wait "$sy_pid" || rc=$?
check "proxy exits 0 on SIGTERM" test "$rc" -eq 0
check "no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$tmp/proxy.log"'

if [ $failed -ne 0 ]; then
    echo "# proxy log:"
    sed 's/^/#   /' "$tmp/proxy.log" | tail -n 60
    exit 1
fi
