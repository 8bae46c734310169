# Sourced by the layer-4 e2e scripts: process bookkeeping, readiness polling, TAP-like
# "ok - ..." / "not ok - ..." lines. Only processes started through `start` are stopped.

BUILD=${BUILD:-build}
# LeakSanitizer (make check) checks at exit from a ptrace()ing clone, which the proxy's
# system call filter does not allow (docs/runtime.md): the proxies run without it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
TOOLS=$BUILD/tools
WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-e2e.XXXXXX")
PIDS=()
FAILED=0
PROXY_LOG=$WORK/proxy.log

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "# kept $WORK"; fi
}
trap cleanup EXIT

# start CMD...: runs CMD in the background and remembers its PID in $LAST_PID.
start() {
    "$@" &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

ok() { printf 'ok - %s\n' "$1"; }

not_ok() {
    printf 'not ok - %s\n' "$1"
    FAILED=1
    if [ -s "$PROXY_LOG" ]; then
        echo "# proxy log (last 30 lines):"
        tail -n 30 "$PROXY_LOG" | sed 's/^/#   /'
    fi
}

# check WHAT CMD...: ok when CMD succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# shellcheck source=tests/e2e/lib/poll.sh
. "$(dirname "${BASH_SOURCE[0]}")/poll.sh"

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# cert NAME: a self-signed certificate for NAME in $WORK/NAME.{crt,key}.
cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=$1" -days 2 -keyout "$WORK/$1.key" -out "$WORK/$1.crt" 2>/dev/null
}

# tls_backend NAME PORT: openssl s_server for NAME's certificate on [::1]:PORT.
tls_backend() {
    cert "$1"
    start openssl s_server -quiet -www -accept "[::1]:$2" -cert "$WORK/$1.crt" \
        -key "$WORK/$1.key" >/dev/null 2>&1
    wait_for 10 tcp_open ::1 "$2" || { not_ok "s_server $1 on [::1]:$2 starts"; exit 1; }
}

# byte_backend DIR PORT [ARGS...]: the e2e backend tool on [::1]:PORT, reports in $WORK/DIR.
byte_backend() {
    local dir=$WORK/$1 port=$2
    shift 2
    mkdir -p "$dir"
    start "$TOOLS/backend" -p "$port" -d "$dir" "$@"
    wait_for 10 test -e "$dir/ready" || { not_ok "backend $dir on [::1]:$port starts"; exit 1; }
}

# proxy SITE: starts build/SITE/switchyard, logging to $PROXY_LOG; PROXY_PID is its PID.
proxy() {
    start "$BUILD/$1/switchyard" 2>"$PROXY_LOG"
    PROXY_PID=$LAST_PID
    wait_for 10 grep -q ' started' "$PROXY_LOG" || { not_ok "proxy $1 starts"; exit 1; }
    # Asked for the kernel relay (tests/run.sh runs the layer-4 tests with both): say so
    # when the machine cannot load it.
    if [ "${SWITCHYARD_RELAY:-}" = kernel ] && ! grep -q 'relay: kernel' "$PROXY_LOG"; then
        echo "# SKIP kernel relay: $(grep -o 'relay: .*' "$PROXY_LOG" | head -n 1)"
    fi
}

# log_has PATTERN: the proxy log has a line matching the extended regex, within 5 s
# (a connection's line is written when it ends, just after the client sees the end).
log_has() { wait_for 5 grep -Eq -- "$1" "$PROXY_LOG"; }

# hello_len NAME: the length of the test client's ClientHello for NAME.
hello_len() { "$TOOLS/client" -n "$1" -m dump | wc -c; }

# half_close PORT: through the proxy on PORT, the client sends respond.test 1 MiB and shuts
# its write side: its FIN reaches the server (byte backend "respond", answering 4 MiB)
# after its last byte, and the answer still flows back, then the server's FIN; the
# connection ends normally, with its counts.
half_close() {
    local n
    check "half-close: the client shuts its write side and still gets the whole 4 MiB answer" \
        "$TOOLS/client" -a 127.0.0.1 -p "$1" -n respond.test -u $((1 << 20)) -m respond \
        -e $((4 << 20)) -t 20
    n=$(hello_len respond.test)
    check "the answering backend saw the client's EOF after the hello and 1 MiB, no more" \
        wait_for 5 grep -q "^bytes=$((n + (1 << 20))) " "$WORK/respond/1.done"
    check "the half-closed connection ended normally, with its counts" \
        log_has "sni=respond\.test .*c2s=$((n + (1 << 20))) s2c=$((4 << 20)) .*term=--"
}

# listener_metric PORT NAME LISTENER: switchyard_listener_NAME_total of LISTENER in a
# scrape of the metrics listener on 127.0.0.1:PORT; empty when the scrape has none.
listener_metric() {
    curl -s "http://127.0.0.1:$1/metrics" |
        awk -v n="switchyard_listener_$2_total{listener=\"$3\"}" '$1 == n { print $2 }'
}

# conns DIR: how many connections the byte backend in $WORK/DIR has seen.
conns() { find "$WORK/$1" -name '*.accepted' | wc -l; }
# count_is N CMD...: CMD prints N (re-run on every poll of wait_for, unlike "$(CMD)").
count_is() { test "$("${@:2}")" -eq "$1"; }
children() { ps -o pid= --ppid "$1" | wc -l; }

finish() {
    exit "$FAILED"
}

# ---- process-level tests (proc_*.sh) ----

# serialise: proc tests use fixed socket paths under /tmp as well as fixed ports; a second
# run of the suite at the same time waits here instead of colliding.
serialise() {
    exec 9>"${TMPDIR:-/tmp}/switchyard-e2e-proc.lock"
    flock -w 300 9 || { not_ok "lock for the process tests"; exit 1; }
}

# need_root WHY: the rest of the test needs root (chroot, user); without it, SKIP and stop.
need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        ok "# SKIP not root: $1"
        finish
    fi
}

# need_static: ends the test as skipped (ok) in a sanitizer build, which has no static
# binaries (make static).
need_static() {
    if grep -q -- '-fsanitize' "$BUILD/flags"; then
        ok "# SKIP sanitizer build: no static binaries"
        finish
    fi
}

# jail DIR: DIR, created empty (a chroot for the proxy), removed at exit.
jail() {
    JAIL=$1
    rm -rf "$JAIL"
    mkdir -m 755 "$JAIL"
    trap 'rm -rf "$JAIL"; cleanup' EXIT
}

# hello NAME: writes a ClientHello for NAME to $WORK/NAME.hello.
hello() { "$TOOLS/client" -n "$1" -m dump >"$WORK/$1.hello"; }

# blackhole PORT [-t SECONDS]: a server on [::1]:PORT that never accepts and whose accept
# queue is full, so that connects to it hang (SYNs dropped) until the proxy's connect
# timeout; with -t it starts echoing after SECONDS (see tests/e2e/tools/probe.c).
blackhole() {
    start "$TOOLS/probe" blackhole -p "$@" >"$WORK/blackhole.$1"
    wait_for 10 grep -q ready "$WORK/blackhole.$1" || { not_ok "blackhole on $1 starts"; exit 1; }
}

# proxy_ulimit N SITE: like proxy, under `ulimit -n N` (soft and hard).
proxy_ulimit() {
    start bash -c 'ulimit -n "$1" && exec "$2"' _ "$1" "$BUILD/$2/switchyard" 2>"$PROXY_LOG"
    PROXY_PID=$LAST_PID
    wait_for 10 grep -q ' started' "$PROXY_LOG" || { not_ok "proxy $2 starts"; exit 1; }
}

# hammer PORT: a client opening connection after connection to 127.0.0.1:PORT for 4 s
# (hello from $WORK/echo.test.hello, echo expected); HAMMER is its PID, its verdict goes to
# $WORK/hammer.out ("ok=N fail=M").
hammer() {
    start "$TOOLS/probe" hammer -a 127.0.0.1 -p "$1" -f "$WORK/echo.test.hello" -t 4 \
        >"$WORK/hammer.out"
    HAMMER=$LAST_PID
}

# takeover SITE SOCK: starts build/SITE/switchyard --takeover SOCK, logging to
# $WORK/new.log, which becomes PROXY_LOG; NEW is its PID. Checks that it starts.
takeover() {
    NEW_LOG=$WORK/new.log
    start "$BUILD/$1/switchyard" --takeover "$2" 2>"$NEW_LOG"
    NEW=$LAST_PID
    PROXY_LOG=$NEW_LOG
    check "the new binary starts" wait_for 10 grep -q ' started' "$NEW_LOG"
}

# cpu_ms PID: user plus system CPU time PID has used so far, in milliseconds.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }

# stop_proxy: SIGTERM to the proxy, waits for its exit (10 s at most); PROXY_RC is its status.
stop_proxy() {
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    PROXY_RC=0
    wait_for 10 sh -c "! kill -0 $PROXY_PID 2>/dev/null" || PROXY_RC=timeout
    [ "$PROXY_RC" = timeout ] || wait "$PROXY_PID" || PROXY_RC=$?
}

# hammers HTTP_PORT NHTTP TLS_PORT NTLS SECONDS: connection-per-request clients on
# 127.0.0.1 for SECONDS: NHTTP sending $WORK/req to HTTP_PORT, NTLS sending
# $WORK/echo.test.hello to TLS_PORT (probe hammer); verdicts in $WORK/http.N and
# $WORK/tls.N, pids in HAMMERS.
hammers() {
    local i
    HAMMERS=()
    for i in $(seq 1 "$2"); do
        start "$TOOLS/probe" hammer -H -a 127.0.0.1 -p "$1" -f "$WORK/req" -t "$5" \
            >"$WORK/http.$i"
        HAMMERS+=("$LAST_PID")
    done
    for i in $(seq 1 "$4"); do
        start "$TOOLS/probe" hammer -a 127.0.0.1 -p "$3" -f "$WORK/echo.test.hello" -t "$5" \
            >"$WORK/tls.$i"
        HAMMERS+=("$LAST_PID")
    done
}

# hammers_check NHTTP NTLS: waits for the hammers; every client must have had answers and
# no failure (the first failures' reasons are shown).
hammers_check() {
    local hok hfail hn tok tfail tn firsts
    wait "${HAMMERS[@]}" || true
    sum() { cat "$@" | sed -n 's/^ok=\([0-9]*\) fail=\([0-9]*\).*/\1 \2/p' |
            awk '{ ok += $1; fail += $2; n++ } END { printf "%d %d %d", ok, fail, n }'; }
    read -r hok hfail hn <<<"$(sum "$WORK"/http.*)"
    read -r tok tfail tn <<<"$(sum "$WORK"/tls.*)"
    firsts=$(grep -ho 'first=.*' "$WORK"/http.* "$WORK"/tls.* | sort | uniq -c | tr '\n' ';' || true)
    check "http, $1 clients, a connection per request: $hok answered, $hfail failed ${firsts}" \
        test "$hn" -eq "$1" -a "$hfail" -eq 0 -a "$hok" -gt 0
    check "tls, $2 clients, a connection per exchange: $tok answered, $tfail failed" \
        test "$tn" -eq "$2" -a "$tfail" -eq 0 -a "$tok" -gt 0
}

# ---- QUIC (quic_*.sh) ----

# need_ngtcp2 PROGRAM...: ngtcp2's example programs (Debian: ngtcp2-client for gtlsclient,
# ngtcp2-server for gtlsserver in /usr/sbin); without one, SKIP and stop.
need_ngtcp2() {
    local p
    PATH=$PATH:/usr/sbin
    for p in "$@"; do
        if ! command -v "$p" >/dev/null; then
            ok "# SKIP $p not installed (Debian packages ngtcp2-client, ngtcp2-server)"
            finish
        fi
    done
}

# h3_backend NAME PORT: an HTTP/3 server (gtlsserver) for NAME's certificate on
# [::1]:PORT, serving $WORK/NAME/index.html ("this is NAME"); its packet trace goes to
# $WORK/NAME.log.
h3_backend() {
    cert "$1"
    mkdir -p "$WORK/$1"
    echo "this is $1" >"$WORK/$1/index.html"
    start gtlsserver -d "$WORK/$1" ::1 "$2" "$WORK/$1.key" "$WORK/$1.crt" >"$WORK/$1.log" 2>&1
    wait_for 10 sh -c "ss -Hlun 'sport = :$2' | grep -q ." ||
        { not_ok "gtlsserver $1 on [::1]:$2 starts"; exit 1; }
}
