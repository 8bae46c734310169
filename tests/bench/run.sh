#!/usr/bin/env bash
# Benchmark harness: switchyard against HAProxy, nginx and sniproxy, with "direct" (client
# straight to the backend) as the ceiling. Writes build/bench/report.md and PNG plots.
# Subjects: direct switchyard switchyard-kernel (its kernel relay) haproxy nginx sniproxy.
#
#   tests/bench/run.sh [--quick] [--reps N] [--subjects "direct haproxy ..."]
#                      [--workloads "http_ka tls_conn ..."] [--cap-http PERCENT]
#                      [--cap-tls PERCENT] [--verify-only]
#
# --workloads quic stands for the QUIC workloads: quic_hs quic_bulk quic_dgram quic_mem.
# Traffic goes only to loopback. Every load run is bounded in count and in time and ends
# by itself; the harness stops only the processes it started, by PID, on any exit.
# See docs/bench.md for the method and how to read the report.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/bench
B=$ROOT/build/bench
# shellcheck source=tests/bench/conf.sh
. "$HERE/conf.sh"
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/bench/quic.sh
. "$HERE/quic.sh"

ALL_SUBJECTS="direct switchyard switchyard-kernel haproxy nginx sniproxy"
ALL_WORKLOADS="http_ka http_close tls_conn tls_ka http_ka_cap http_close_cap tls_conn_cap"
ALL_WORKLOADS+=" bulk_http bulk_tls bulk_tls_cap mem_http mem_tls startup table build $QUIC_WORKLOADS"
QUICK=0 REPS="" SUBJECTS=$ALL_SUBJECTS WORKLOADS=$ALL_WORKLOADS VERIFY_ONLY=0
CAP_HTTP=25 CAP_TLS=10  # the *_cap workloads: the proxy gets this % of one CPU

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --subjects) SUBJECTS=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --cap-http) CAP_HTTP=$2; shift ;;
    --cap-tls) CAP_TLS=$2; shift ;;
    --verify-only) VERIFY_ONLY=1 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done
WORKLOADS=$(sed "s/\(^\| \)quic\( \|$\)/\1$QUIC_WORKLOADS\2/g" <<<"$WORKLOADS")

if [ $QUICK = 1 ]; then
    : "${REPS:=2}"
    DUR=1               # seconds per throughput run
    MAXREQ=2000000      # count bound per throughput run
    NIDLE=1000          # idle connections for the memory runs
    BIG_MB=16 BULK_GETS=2
    SIZES="1000 100000"
    START_REPS=1
    BUILD_N=100000 BUILD_RUNS=1
    Q_HS=20             # QUIC handshakes per round
    SC_DUR=1 SC_MAX=100000  # the run under the system call counter: seconds, requests
else
    : "${REPS:=3}"
    DUR=10
    MAXREQ=20000000
    NIDLE=10000
    BIG_MB=64 BULK_GETS=4
    SIZES="1000 100000 1000000"
    START_REPS=3
    BUILD_N=1000000 BUILD_RUNS=3   # tests/bench/table/build.sh: .yard to binary
    Q_HS=100
    SC_DUR=3 SC_MAX=1000000
fi
LOAD_DUR=$DUR LOAD_MAX=$MAXREQ  # bounds of the load run under way
# After each of these runs, a shorter one counts the proxy's system calls per request
# (bulk: per MiB).
SC_WORKLOADS="http_ka http_close tls_conn tls_ka http_ka_cap http_close_cap tls_conn_cap"
SC_WORKLOADS+=" bulk_http bulk_tls"
COUNTING=0 SC_WHY=""
HOLD=30                 # upper bound on how long idle connections are held

CPU_LOAD=0 CPU_PROXY=1
[ "$(nproc)" -lt 2 ] && CPU_PROXY=0

RES=$B/results.tsv      # round workload subject metric value
CMDS=$B/commands.txt
NOTES=$B/notes.txt      # one "subject|workload: skipped: why" per line
declare -A PID SKIP

say() { printf '%4ss %s\n' "$SECONDS" "$*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; say "  $*"; }
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

# ---------------------------------------------------------------- setup

check_tools() {
    local missing="" pkgs=""
    command -v haproxy >/dev/null || pkgs+=" haproxy"
    command -v nginx >/dev/null || pkgs+=" nginx"
    [ -e "$NGX_STREAM_MODULE" ] || pkgs+=" libnginx-mod-stream"
    command -v sniproxy >/dev/null || pkgs+=" sniproxy"
    command -v wrk >/dev/null || pkgs+=" wrk"
    command -v gnuplot >/dev/null || pkgs+=" gnuplot-nox"
    command -v openssl >/dev/null || pkgs+=" openssl"
    command -v curl >/dev/null || pkgs+=" curl"
    command -v taskset >/dev/null || pkgs+=" util-linux"
    command -v cc >/dev/null || pkgs+=" gcc"
    command -v make >/dev/null || pkgs+=" make"
    [ -x /usr/bin/time ] || pkgs+=" time"            # tests/bench/table/run.sh
    command -v bc >/dev/null || pkgs+=" bc"
    command -v perf >/dev/null || pkgs+=" linux-perf"
    [ -e /usr/include/openssl/ssl.h ] || pkgs+=" libssl-dev"
    [ -e /usr/include/ev.h ] || pkgs+=" libev-dev"
    command -v gtlsclient >/dev/null || pkgs+=" ngtcp2-client"
    command -v gtlsserver >/dev/null || pkgs+=" ngtcp2-server"
    [ -z "$pkgs" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing:$pkgs"
        # Installing only; no service is started or touched (and none must listen on our ports).
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y --no-install-recommends $pkgs >&2; } || missing=1
    else
        missing=1
    fi
    if [ -n "$missing" ]; then
        echo "run.sh: missing tools; install them with:" >&2
        echo "  apt-get install -y$pkgs" >&2
        exit 2
    fi
}

check_ports() {
    local p busy=""
    for p in $P_HTTP_A $P_HTTP_B $P_TLS_A $P_TLS_B $P_SY_HTTP $P_SY_TLS $P_HA_HTTP $P_HA_TLS \
             $P_NG_HTTP $P_NG_TLS $P_SN_TLS $P_START; do
        ss -Hltn "sport = :$p" | grep -q . && busy+=" $p"
    done
    for p in $P_SY_QUIC $P_QUIC_A $P_QUIC_B $P_QUIC_ECHO; do
        ss -Hlun "sport = :$p" | grep -q . && busy+=" $p/udp"
    done
    if [ -n "$busy" ]; then
        echo "run.sh: ports already in use:$busy (something else is listening; not touching it)" >&2
        exit 1
    fi
}

prepare() {
    mkdir -p "$B"/{conf,certs,logs,run,www,plots,startup,quic,tmp/backend,tmp/nginx,tmp/nginx-start}
    : >"$RES"; : >"$CMDS"; : >"$NOTES"
    # A proxy needs two descriptors per routed connection (client + backend). Raising the
    # hard limit needs CAP_SYS_RESOURCE; without it the idle-connection count is capped.
    ulimit -Hn 1048576 2>/dev/null || true
    ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
    FD_LIMIT=$(ulimit -Sn)
    [ "$FD_LIMIT" = unlimited ] && FD_LIMIT=1048576
    [ "$FD_LIMIT" -gt 200000 ] && FD_LIMIT=200000
    PROXY_MAXCONN=$(( (FD_LIMIT - 100) / 2 ))
    [ $PROXY_MAXCONN -gt 40000 ] && PROXY_MAXCONN=40000
    if [ $NIDLE -gt $((PROXY_MAXCONN - 50)) ]; then
        note "memory runs: RLIMIT_NOFILE is $FD_LIMIT and cannot be raised here;" \
             "idle connections lowered from $NIDLE to $((PROXY_MAXCONN - 50))"
        NIDLE=$((PROXY_MAXCONN - 50))
    fi
    write_certs
    local want=$((BIG_MB << 20))
    if [ "$(stat -c %s "$B/www/big" 2>/dev/null || echo 0)" != $want ]; then
        head -c $want /dev/urandom >"$B/www/big"
    fi
    write_backend_conf
    write_haproxy_conf "$B/conf/haproxy.cfg"
    write_nginx_proxy_conf "$B/conf/nginx.conf"
    write_sniproxy_conf "$B/conf/sniproxy.conf"
    cc -std=c11 -O2 -Wall -Wextra -o "$B/tlsload" "$HERE/tlsload.c" -lssl -lcrypto ||
        { echo "run.sh: cannot build tlsload" >&2; exit 1; }
    cc -std=c11 -O2 -Wall -Wextra -I"$ROOT/runtime" -I"$ROOT/tests/unit" \
        -I"$ROOT/tests/e2e/tools" -o "$B/quicload" "$HERE/quicload.c" "$ROOT/runtime/quic.c" \
        "$ROOT/runtime/sni.c" -lcrypto || { echo "run.sh: cannot build quicload" >&2; exit 1; }
    cat >"$B/wrk-bound.lua" <<'EOF'
-- Stop each wrk thread after WRK_MAX responses: every run is bounded in count and time.
local n, max = 0, tonumber(os.getenv("WRK_MAX") or "1000000")
function response(status, headers, body)
    n = n + 1
    if n >= max then wrk.thread:stop() end
end
EOF
}

# The system call counter needs perf and the kernel's syscall tracepoints (root, or
# kernel.perf_event_paranoid low enough); without them the counts are skipped, with why
# (without the permission to count in the kernel, perf counts user space only, and says
# so by naming the event sys_enter_closeu).
syscalls_probe() {
    local out
    syscalls_known
    if ! out=$(perf stat -x, -e raw_syscalls:sys_enter -e syscalls:sys_enter_close -- true 2>&1) ||
       ! grep -q '^[0-9][0-9]*,,syscalls:sys_enter_close,' <<<"$out"; then
        SC_WHY="perf cannot count system calls here: $(grep -m 1 -v '^$' <<<"$out")"
        note "syscalls: skipped: $SC_WHY"
    fi
}

# ---------------------------------------------------------------- processes

# start_proc NAME CPU LOG CMD... : starts CMD pinned to CPU, in the foreground of its own
# (no daemonising), and remembers its PID; the only processes this script ever stops.
# The command goes to the list of commands the first time (subjects are restarted).
start_proc() {
    local name=$1 cpu=$2 log=$3 line
    shift 3
    line="[$name] taskset -c $cpu $(printf '%q ' "$@")"
    grep -qxF "$line" "$CMDS" || echo "$line" >>"$CMDS"
    taskset -c "$cpu" "$@" >>"$log" 2>&1 </dev/null &
    PID[$name]=$!
}

cleanup() {
    local n
    for n in "${!PID[@]}"; do stop_proc "$n"; done
    cap_remove
}

# ---------------------------------------------------------------- CPU cap
# The *_cap workloads run each proxy in a CPU cgroup limited to a % of one CPU, so that
# the proxy, not the load generator's core, is the bottleneck: the rate then measures how
# much work each proxy does per request. cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us).
CG="" CG_HOME="" CAP_WHY=""
CAP_PERIOD_US=10000     # short periods: the quota comes in small slices, not long bursts

cap_setup() {
    local name=switchyard-bench-$$ rel
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
        CG_HOME=/sys/fs/cgroup${rel%/}
        grep -qw cpu "$CG_HOME/cgroup.controllers" 2>/dev/null || { CAP_WHY="no cpu controller"; return 1; }
        echo +cpu >"$CG_HOME/cgroup.subtree_control" 2>/dev/null
    elif [ -d /sys/fs/cgroup/cpu ]; then
        rel=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}cpu\(,[^:]*\)\{0,1\}:\(.*\)/\3/p' /proc/self/cgroup | head -n 1)
        CG_HOME=/sys/fs/cgroup/cpu${rel%/}
    else
        CAP_WHY="no cgroup file system"
        return 1
    fi
    mkdir "$CG_HOME/$name" 2>/dev/null || { CAP_WHY="cannot create a cgroup under $CG_HOME"; return 1; }
    CG=$CG_HOME/$name
    cap_set "$CAP_TLS" || { CAP_WHY="cannot set a CPU quota in $CG"; return 1; }
}

cap_set() {     # percent of one CPU
    local period=$CAP_PERIOD_US quota
    # The kernel's smallest quota is 1 ms: below 10 %, the period grows to keep it so.
    [ $(($1 * period / 100)) -lt 1000 ] && period=$(( (100000 + $1 - 1) / $1 ))
    quota=$(($1 * period / 100))
    if [ -e "$CG/cpu.max" ]; then
        echo "$quota $period" >"$CG/cpu.max"
    else
        echo "$period" >"$CG/cpu.cfs_period_us" && echo "$quota" >"$CG/cpu.cfs_quota_us"
    fi 2>/dev/null
}

cap_move() {    # pid cgroup-dir
    echo "$1" >"$2/cgroup.procs" 2>/dev/null
}

cap_remove() {
    [ -n "$CG" ] && [ -d "$CG" ] || return 0
    local p
    while read -r p; do cap_move "$p" "$CG_HOME"; done <"$CG/cgroup.procs"
    rmdir "$CG" 2>/dev/null
    CG=""
}

# capped PERCENT ROUND WORKLOAD SUBJECT CMD...: runs CMD with the subject's serving process
# in the cgroup limited to PERCENT of one CPU, and records how much of the quota the process
# used (near 100 %: the proxy was the bottleneck, as intended).
capped() {
    local cap=$1 r=$2 wl=$3 s=$4 pid t0 t1 w0 w1
    shift 4
    pid=$(serving_pid "$s") || return 0
    cap_set "$cap" || { note "$s|$wl: cannot set a $cap % CPU quota in $CG"; return 0; }
    cap_move "$pid" "$CG" || { note "$s|$wl: cannot move PID $pid into $CG"; return 0; }
    t0=$(cpu_ticks "$pid") w0=$(date +%s%N)
    "$@"
    t1=$(cpu_ticks "$pid") w1=$(date +%s%N)
    cap_move "$pid" "$CG_HOME"
    [ $COUNTING = 1 ] && return 0
    record "$r" "$wl" "$s" quota_pct "$(awk -v a="$t0" -v b="$t1" -v w0="$w0" -v w1="$w1" \
        -v hz="$CLK_TCK" -v cap="$cap" 'BEGIN { printf "%.0f", (b - a) / hz / ((w1 - w0) / 1e9) * 100 * 100 / cap }')"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

port_open() {   # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_port() {   # name host port seconds
    local end=$((SECONDS + $4))
    while [ $SECONDS -lt $end ]; do
        port_open "$2" "$3" && return 0
        [ -n "${PID[$1]:-}" ] && ! kill -0 "${PID[$1]}" 2>/dev/null && return 1
        sleep 0.02
    done
    return 1
}

# The process whose CPU time and memory are measured: nginx's single worker, else the PID.
serving_pid() {
    local pid=${PID[$1]:-}
    [ -z "$pid" ] && return 1
    if [ "$1" = nginx ] || [ "$1" = nginx-start ]; then
        local kids
        kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
        set -- $kids
        [ $# -ge 1 ] && { echo "$1"; return 0; }
        return 1
    fi
    echo "$pid"
}

CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- subjects

http_target() {
    case $1 in
    switchyard-kernel) return 1 ;;     # the kernel relays layer 4 only
    direct) echo "[::1]:$P_HTTP_A" ;;
    switchyard) echo "127.0.0.1:$P_SY_HTTP" ;;
    haproxy) echo "127.0.0.1:$P_HA_HTTP" ;;
    nginx) echo "127.0.0.1:$P_NG_HTTP" ;;
    *) return 1 ;;
    esac
}

tls_target() {      # prints "host port"
    case $1 in
    direct) echo "::1 $P_TLS_A" ;;
    switchyard|switchyard-kernel) echo "127.0.0.1 $P_SY_TLS" ;;
    haproxy) echo "127.0.0.1 $P_HA_TLS" ;;
    nginx) echo "127.0.0.1 $P_NG_TLS" ;;
    sniproxy) echo "127.0.0.1 $P_SN_TLS" ;;
    *) return 1 ;;
    esac
}

SY_BIN=$ROOT/build/benchsite/switchyard

first_error() {     # the first line of a build log that says what went wrong
    grep -m 1 -iE 'error|no rule|not found|cannot' "$1" || tail -n 1 "$1"
}

build_switchyard() {
    local log=$B/logs/switchyard-build.log
    if [ ! -e "$ROOT/GNUmakefile" ] && [ ! -e "$ROOT/Makefile" ]; then
        SKIP[switchyard]="no GNUmakefile yet"
        return
    fi
    if ! timeout 600 make -C "$ROOT" --no-print-directory SITE=tests/bench/benchsite.yard \
            build/benchsite/switchyard >"$log" 2>&1; then
        SKIP[switchyard]="make SITE=tests/bench/benchsite.yard failed: $(first_error "$log")"
        return
    fi
    [ -x "$SY_BIN" ] || SKIP[switchyard]="make succeeded but $SY_BIN does not exist"
}

# switchyard-kernel is switchyard's binary with the kernel relay (SWITCHYARD_RELAY=kernel;
# switchyard itself gets SWITCHYARD_RELAY=user, whatever the caller's environment says).
# It is measured on the workloads the kernel relays, those of the TLS listener; the two
# listen on the same ports, so the one about to be measured takes them from the other.
applies() {     # subject workload
    case $1:$2 in
    switchyard-kernel:tls_*|switchyard-kernel:bulk_tls*|switchyard-kernel:mem_tls) return 0 ;;
    switchyard-kernel:*) return 1 ;;
    esac
}
port_twin() {
    case $1 in
    switchyard) echo switchyard-kernel ;;
    switchyard-kernel) echo switchyard ;;
    esac
}

# relay_in_use SUBJECT RELAY: whether the proxy's log says it relays as asked (the line
# "relay: kernel (sockmap)" or "relay: user (configured)"); if not, START_WHY says what
# the log said instead (the kernel relay could not be loaded: "relay: user (why)").
relay_in_use() {
    local line i
    # The listeners are bound before the kernel relay is loaded (20 ms with its BTF
    # relocations): the line is in by the time the proxy says it started.
    for i in $(seq 100); do
        grep -q ' started' "$B/logs/$1.log" && break
        sleep 0.1
    done
    line=$(grep -m 1 -o 'relay: .*' "$B/logs/$1.log")
    case $line in "relay: $2 "*) return 0 ;; esac
    START_WHY="started with SWITCHYARD_RELAY=$2, its log says '${line:-no relay line}'"
    return 1
}

# kernel_refusals SUBJECT WORKLOAD: notes it when the kernel refused connections, which the
# proxy then relayed in user space (its log says so, once per process).
kernel_refusals() {
    [ "$1" = switchyard-kernel ] || return 0
    local line
    line=$(grep -m 1 -o 'relay: the kernel refused.*' "$B/logs/$1.log") || return 0
    grep -qF "$1|$2: $line" "$NOTES" || note "$1|$2: $line"
}

# ensure_started SUBJECT WORKLOAD: starts the subject again when its twin took its ports.
ensure_started() {
    if [ "$1" = direct ] || [ -n "${PID[$1]:-}" ]; then
        return 0
    fi
    START_WHY=""
    start_subject "$1" && return 0
    note "$1|$2: restart failed: ${START_WHY:-see build/bench/logs/$1.log}"
    stop_proc "$1"
    return 1
}

start_subject() {
    local s=$1 relay=user
    case $s in
    direct) return 0 ;;
    switchyard|switchyard-kernel)
        stop_proc "$(port_twin "$s")"
        [ "$s" = switchyard-kernel ] && relay=kernel
        : >"$B/logs/$s.log"
        start_proc "$s" $CPU_PROXY "$B/logs/$s.log" env SWITCHYARD_RELAY=$relay "$SY_BIN"
        wait_port "$s" 127.0.0.1 $P_SY_HTTP 10 && wait_port "$s" 127.0.0.1 $P_SY_TLS 10 &&
            relay_in_use "$s" $relay ;;
    haproxy)
        start_proc haproxy $CPU_PROXY "$B/logs/haproxy.log" haproxy -db -f "$B/conf/haproxy.cfg"
        wait_port haproxy 127.0.0.1 $P_HA_HTTP 10 && wait_port haproxy 127.0.0.1 $P_HA_TLS 10 ;;
    nginx)
        start_proc nginx $CPU_PROXY "$B/logs/nginx.out.log" \
            nginx -e "$B/logs/nginx.error.log" -c "$B/conf/nginx.conf"
        wait_port nginx 127.0.0.1 $P_NG_HTTP 10 && wait_port nginx 127.0.0.1 $P_NG_TLS 10 ;;
    sniproxy)
        start_proc sniproxy $CPU_PROXY "$B/logs/sniproxy.out.log" \
            sniproxy -f -c "$B/conf/sniproxy.conf"
        wait_port sniproxy 127.0.0.1 $P_SN_TLS 10 ;;
    esac
}

start_backends() {
    start_proc backend $CPU_LOAD "$B/logs/backend.out.log" \
        nginx -e "$B/logs/backend.error.log" -c "$B/conf/backend.conf"
    local p
    for p in $P_HTTP_A $P_HTTP_B $P_TLS_A $P_TLS_B; do
        wait_port backend ::1 $p 10 || { echo "run.sh: backend nginx did not start" >&2;
            tail "$B/logs/backend.error.log" >&2; exit 1; }
    done
}

truncate_logs() {
    local f
    for f in "$B"/logs/*.access.log "$B"/logs/*.stream.log "$B/logs/haproxy.log" \
             "$B/logs/switchyard.log" "$B/logs/switchyard-kernel.log"; do
        [ -f "$f" ] && : >"$f"
    done
}

# Checks that every proxy routes each name to its own backend before anything is measured.
verify_subject() {
    local s=$1 site got want ok=0 t h p
    for site in a b; do
        if t=$(http_target "$s"); then
            want=$site-http
            [ "$s" = direct ] && [ $site = b ] && t="[::1]:$P_HTTP_B"
            got=$(curl -s -m 5 -H "Host: $site.bench.test" "http://$t/")
            [ "$got" = "$want" ] ||
                { say "  $s: http $site.bench.test -> '$got', want '$want'"; ok=1; }
        fi
        read -r h p < <(tls_target "$s")
        [ "$s" = direct ] && [ $site = b ] && p=$P_TLS_B
        want=$site-tls
        [ "$h" = ::1 ] && h="[::1]"
        got=$(curl -sk -m 5 --connect-to "$site.bench.test:443:$h:$p" "https://$site.bench.test/")
        [ "$got" = "$want" ] || { say "  $s: tls $site.bench.test -> '$got', want '$want'"; ok=1; }
    done
    # The certificate must be the named backend's own (SNI reached the right server).
    read -r h p < <(tls_target "$s")
    [ "$h" = ::1 ] && h="[::1]"
    got=$(echo | timeout 5 openssl s_client -connect "$h:$p" -servername b.bench.test 2>/dev/null |
          sed -n 's/^subject=.*CN *= *//p')
    [ "$s" = direct ] || [ "$got" = b.bench.test ] ||
        { say "  $s: openssl s_client -servername b.bench.test saw CN '$got'"; ok=1; }
    return $ok
}

# ---------------------------------------------------------------- measuring

record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"; }

# to_us VALUE_WITH_UNIT (wrk's "1.23ms", "850.00us", "1.01s")
to_us() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v + 0 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000000 }
        else print v + 0 }'
}

# cpu_begin SUBJECT / cpu_end SUBJECT ROUND WORKLOAD REQUESTS: the proxy's own CPU time
# (user + sys, the scheduler's count in ns: cpu_ns) per request, in microseconds;
# cpu_sys_us: the kernel's part of it (/proc/PID/stat ticks); host_us: the busy time of
# the whole machine (host_ticks), for every subject, direct included; core_us: that of the
# proxy's core alone. A bulk run's "requests" are the MiB it moved.
cpu_begin() {
    CPU_PID=$(serving_pid "$1") || CPU_PID=""
    CPU0=0 SYS0=0 HOST0=$(host_ticks) CORE0=$(host_ticks $CPU_PROXY)
    [ -n "$CPU_PID" ] && CPU0=$(cpu_ns "$CPU_PID") SYS0=$(sys_ticks "$CPU_PID")
}
cpu_end() {
    [ "$4" -gt 0 ] || return 0
    record "$2" "$3" "$1" host_us "$(per_request_us "$HOST0" "$(host_ticks)" "$4")"
    record "$2" "$3" "$1" core_us "$(per_request_us "$CORE0" "$(host_ticks $CPU_PROXY)" "$4")"
    [ -z "$CPU_PID" ] && return 0
    record "$2" "$3" "$1" cpu_us "$(per_request_us "$CPU0" "$(cpu_ns "$CPU_PID")" "$4" 1e9)"
    record "$2" "$3" "$1" cpu_sys_us "$(per_request_us "$SYS0" "$(sys_ticks "$CPU_PID")" "$4")"
}
per_request_us() {  # before after requests [units per second: clock ticks by default]
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="${4:-$CLK_TCK}" \
        'BEGIN { printf "%.2f", (b - a) * 1e6 / hz / n }'
}

# syscalls_begin SUBJECT / syscalls_end SUBJECT ROUND WORKLOAD REQUESTS: the serving
# process's system calls per request during the run (COUNTING=1): "sys_total", then
# "sys_NAME" for each call made at least once per 1000 requests.
syscalls_begin() {
    SC_PID=$(serving_pid "$1") || SC_PID=""
    [ -z "$SC_PID" ] && return 0
    rm -f "$B/run/syscalls.csv"
    # from half a second before the load to about 1.5 s after it (the load is bounded by time)
    syscalls_start "$SC_PID" "$B/run/syscalls.csv" $((LOAD_DUR + 2))
    PID[perf]=$!
    sleep 0.5
}
syscalls_end() {
    [ -z "$SC_PID" ] && return 0
    syscalls_wait "${PID[perf]}"
    unset "PID[perf]"
    [ "$4" -gt 0 ] || return 0
    local per name v
    per=$(syscalls_per "$B/run/syscalls.csv" "$4")
    [ -n "$per" ] || { note "$1|$3: round $2: perf counted no system call"; return 0; }
    while read -r name v; do
        awk -v v="$v" 'BEGIN { exit !(v >= 0.001) }' && record "$2" "$3" "$1" "sys_$name" "$v"
    done <<<"$per"
    say "  $3 $1: $(head -n 4 <<<"$per" | tr '\n' ' ')... system calls per request"
}

# meter_begin / meter_end: what a load run measures of the proxy besides the load's own
# figures: its CPU time, or its system calls in a counting run.
meter_begin() {
    if [ $COUNTING = 1 ]; then syscalls_begin "$@"; else cpu_begin "$@"; fi
}
meter_end() {
    if [ $COUNTING = 1 ]; then syscalls_end "$@"; else cpu_end "$@"; fi
}

# count_syscalls ROUND WORKLOAD SUBJECT: the workload again, shorter, under the counter.
count_syscalls() {
    [ -z "$SC_WHY" ] && [ "$3" != direct ] && has "$SC_WORKLOADS" "$2" || return 0
    COUNTING=1 LOAD_DUR=$SC_DUR LOAD_MAX=$SC_MAX
    run_workload "$@"
    COUNTING=0 LOAD_DUR=$DUR LOAD_MAX=$MAXREQ
}

counting_tag() {
    [ $COUNTING = 1 ] && echo ", system calls: perf stat -x, -e raw_syscalls:sys_enter" \
        "-e syscalls:sys_enter_NAME... -p PID -- sleep $((LOAD_DUR + 2))"
}

run_wrk() {     # round workload subject conns extra-header...
    local r=$1 wl=$2 s=$3 c=$4 t out
    shift 4
    t=$(http_target "$s") || return 0
    truncate_logs
    local cmd=(taskset -c $CPU_LOAD timeout $((LOAD_DUR + 30)) wrk -t1 -c"$c" -d"${LOAD_DUR}s"
               --latency -s "$B/wrk-bound.lua" -H "Host: a.bench.test" "$@" "http://$t/")
    [ "$r" = 1 ] && echo "[$wl/$s$(counting_tag)] WRK_MAX=$LOAD_MAX $(printf '%q ' "${cmd[@]}")" >>"$CMDS"
    meter_begin "$s"
    out=$(WRK_MAX=$LOAD_MAX "${cmd[@]}" 2>&1)
    [ $COUNTING = 0 ] && printf '%s\n' "$out" >"$B/logs/load-$wl-$s.out"
    local n rps p50 p99 errs
    n=$(awk '/requests in/ { print $1; exit }' <<<"$out")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    errs=$(awk '/Socket errors:/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
                /Non-2xx/ { e += $NF } END { print e + 0 }' <<<"$out")
    meter_end "$s" "$r" "$wl" "${n:-0}"
    [ $COUNTING = 1 ] && return 0
    if [ -z "$rps" ] || [ "${n:-0}" = 0 ]; then
        note "$s|$wl: round $r: wrk completed no request: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
        return 0
    fi
    record "$r" "$wl" "$s" main "$rps"
    record "$r" "$wl" "$s" p50_us "$(to_us "$p50")"
    record "$r" "$wl" "$s" p99_us "$(to_us "$p99")"
    record "$r" "$wl" "$s" errors "$errs"
    say "  $wl $s: $rps req/s p50 $p50 p99 $p99 errors $errs"
}

run_tlsload() {     # round workload subject mode conns
    local r=$1 wl=$2 s=$3 mode=$4 c=$5 h p out
    read -r h p < <(tls_target "$s") || return 0
    truncate_logs
    local cmd=(taskset -c $CPU_LOAD timeout $((LOAD_DUR + 30)) "$B/tlsload" -m "$mode"
               -s a.bench.test -n "$LOAD_MAX" -t "$LOAD_DUR" -c "$c" "$h" "$p")
    [ "$r" = 1 ] && echo "[$wl/$s$(counting_tag)] $(printf '%q ' "${cmd[@]}")" >>"$CMDS"
    meter_begin "$s"
    out=$("${cmd[@]}" 2>&1)
    [ $COUNTING = 0 ] && printf '%s\n' "$out" >"$B/logs/load-$wl-$s.out"
    local n rate p50 p99 errs
    n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")
    rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")
    p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$out")
    p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$out")
    errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
    meter_end "$s" "$r" "$wl" "${n:-0}"
    [ $COUNTING = 1 ] && return 0
    if [ -z "$rate" ] || [ "${n:-0}" = 0 ]; then
        note "$s|$wl: round $r: tlsload completed no request: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
        return 0
    fi
    record "$r" "$wl" "$s" main "$rate"
    record "$r" "$wl" "$s" p50_us "$p50"
    record "$r" "$wl" "$s" p99_us "$p99"
    record "$r" "$wl" "$s" errors "$errs"
    say "  $wl $s: $rate /s p50 ${p50}us p99 ${p99}us errors $errs"
}

run_bulk() {        # round workload subject
    local r=$1 wl=$2 s=$3 url h p i out
    local args=()
    if [ "$wl" = bulk_http ]; then
        url=$(http_target "$s") || return 0
        args=(-H "Host: a.bench.test")
        for i in $(seq $BULK_GETS); do args+=(-o /dev/null "http://$url/big"); done
    else
        read -r h p < <(tls_target "$s") || return 0
        [ "$h" = ::1 ] && h="[::1]"
        args=(-k --connect-to "a.bench.test:443:$h:$p")
        for i in $(seq $BULK_GETS); do args+=(-o /dev/null "https://a.bench.test/big"); done
    fi
    truncate_logs
    local cmd=(taskset -c $CPU_LOAD timeout 120 curl -s
               -w '%{size_download} %{time_total}\n' "${args[@]}")
    [ "$r" = 1 ] && echo "[$wl/$s$(counting_tag)] $(printf '%q ' "${cmd[@]}")" >>"$CMDS"
    meter_begin "$s"
    out=$("${cmd[@]}" 2>&1)
    local mbps mib=$((BIG_MB * BULK_GETS))
    mbps=$(awk -v want=$((BIG_MB << 20)) '{ b += $1; t += $2; if ($1 != want) bad = 1 }
        END { if (bad || t == 0 || NR == 0) exit 1; printf "%.1f", b / t / 1048576 }' <<<"$out") ||
        mib=0
    meter_end "$s" "$r" "$wl" $mib     # per MiB moved
    [ $COUNTING = 1 ] && return 0
    [ $mib = 0 ] &&
        { note "$s|$wl: curl failed or short download: $(tr '\n' ' ' <<<"$out")"; return 0; }
    record "$r" "$wl" "$s" main "$mbps"
    say "  $wl $s: $mbps MiB/s"
}

# Memory per idle routed connection: restart the proxy, open NIDLE connections that each
# got routed (TLS: handshake through the proxy + one request; HTTP: one keep-alive request),
# then read the serving process's RSS growth / connections.
run_mem() {         # round workload subject
    local r=$1 wl=$2 s=$3 h p plain=()
    [ "$s" = direct ] && return 0
    if [ "$wl" = mem_http ]; then
        local t
        t=$(http_target "$s") || return 0
        h=${t%:*} p=${t##*:}
        plain=(-P)
    else
        read -r h p < <(tls_target "$s") || return 0
    fi
    idle_rss "$r" "$wl" "$s" established taskset -c $CPU_LOAD "$B/tlsload" -m idle \
        "${plain[@]}" -s a.bench.test -n "$NIDLE" -c 200 -t $HOLD "$h" "$p"
}

# idle_rss ROUND WORKLOAD SUBJECT KEY CMD...: restarts the subject and reads its RSS, runs
# CMD, an idle client that prints "ready ... KEY=N ..." once it holds N routed connections
# (or QUIC flows) and then holds them, reads the RSS again and records the growth per
# connection.
idle_rss() {
    local r=$1 wl=$2 s=$3 key=$4 pid0 rss0 rss1 line est
    shift 4
    stop_proc "$s"
    start_subject "$s" || { note "$s|$wl: restart failed"; return 0; }
    sleep 0.3
    pid0=$(serving_pid "$s") || return 0
    rss0=$(rss_kib "$pid0")
    local out=$B/run/idle.out
    : >"$out"
    [ "$r" = 1 ] && echo "[$wl/$s] $(printf '%q ' "$@")" >>"$CMDS"
    "$@" >"$out" 2>&1 </dev/null &
    PID[idle-client]=$!
    local end=$((SECONDS + HOLD + 10))
    while [ $SECONDS -lt $end ] && ! grep -q '^ready' "$out" &&
          kill -0 "${PID[idle-client]}" 2>/dev/null; do
        sleep 0.1
    done
    sleep 0.5   # let the proxy settle (deferred frees, pool trimming)
    rss1=$(rss_kib "$pid0")
    line=$(grep '^ready' "$out")
    stop_proc idle-client
    est=$(sed -n "s/.* $key=\([0-9]*\).*/\1/p" <<<"$line")
    if [ -z "$est" ] || [ "$est" = 0 ]; then
        note "$s|$wl: no idle connection established: $(tr '\n' ' ' <"$out")"
        return 0
    fi
    record "$r" "$wl" "$s" main "$(( (rss1 - rss0) * 1024 / est ))"
    record "$r" "$wl" "$s" conns "$est"
    record "$r" "$wl" "$s" rss_kib "$rss1"
    say "  $wl $s: $(( (rss1 - rss0) * 1024 / est )) B/conn ($est conns, RSS $rss0 -> $rss1 KiB)"
    [ "$est" -lt "$NIDLE" ] && note "$s|$wl: only $est of $NIDLE idle connections established"
}

# ---------------------------------------------------------------- start-up vs table size

gen_domains() {     # N -> $B/startup/{list,haproxy.map,nginx.map,sniproxy.tbl}$N
    local n=$1 d=$B/startup
    [ -s "$d/list$n.txt" ] && return 0
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "d%07d.bulk.bench.test bulk\n", i }' \
        >"$d/list$n.txt"
    awk '{ print $1, "pool_tls" }' "$d/list$n.txt" >"$d/haproxy$n.map"
    awk '{ print "        " $1, "a_tls;" }' "$d/list$n.txt" >"$d/nginx$n.map"
    awk -v p=$P_TLS_A '{ d = $1; gsub(/\./, "\\.", d); print "    ^" d "$ [::1]:" p }' \
        "$d/list$n.txt" >"$d/sniproxy$n.tbl"
}

build_switchyard_start() {      # N -> prints binary path or fails with a reason on stdout
    local n=$1 d=$B/startup name=benchstart$1
    cat >"$d/$name.yard" <<EOF
# Generated by tests/bench/run.sh: $n domains, bulk-imported.
global { log stderr; workers 1; maxconn 20000; }
defaults { timeout connect 5s; timeout client 50s; timeout server 50s; timeout inspect 5s; }
listen tls tls 127.0.0.1:$P_START;
pool bulk { server [::1]:$P_TLS_A; }
domains tls "list$n.txt";
EOF
    [ -e "$ROOT/GNUmakefile" ] || { echo "no GNUmakefile yet"; return 1; }
    local t0 t1
    t0=$(date +%s%N)
    if ! timeout 1200 make -C "$ROOT" --no-print-directory \
            SITE="build/bench/startup/$name.yard" "build/$name/switchyard" \
            >"$B/logs/$name-build.log" 2>&1; then
        echo "make SITE=build/bench/startup/$name.yard failed:" \
             "$(first_error "$B/logs/$name-build.log")"
        return 1
    fi
    t1=$(date +%s%N)
    [ -x "$ROOT/build/$name/switchyard" ] ||
        { echo "no build/$name/switchyard after make"; return 1; }
    record 1 startup switchyard "build_ms_$n" $(( (t1 - t0) / 1000000 ))
    record 1 startup switchyard "bin_kib_$n" $(( $(stat -c %s "$ROOT/build/$name/switchyard") / 1024 ))
    echo "$ROOT/build/$name/switchyard"
}

# Start-up time = from exec to the first routed TLS response through the new process.
run_startup_one() {     # round subject N
    local r=$1 s=$2 n=$3 d=$B/startup name cmd=() last
    last=$(tail -n 1 "$d/list$n.txt" | cut -d' ' -f1)
    case $s in
    haproxy)
        write_haproxy_conf "$d/haproxy$n.cfg" "$d/haproxy$n.map"
        name=haproxy-start cmd=(haproxy -db -f "$d/haproxy$n.cfg") ;;
    nginx)
        write_nginx_proxy_conf "$d/nginx$n.conf" "$d/nginx$n.map"
        name=nginx-start cmd=(nginx -e "$B/logs/nginx-start.error.log" -c "$d/nginx$n.conf") ;;
    sniproxy)
        write_sniproxy_conf "$d/sniproxy$n.conf" "$d/sniproxy$n.tbl"
        name=sniproxy-start cmd=(sniproxy -f -c "$d/sniproxy$n.conf") ;;
    switchyard)
        [ -n "${SY_START[$n]:-}" ] || return 0
        name=switchyard-start cmd=("${SY_START[$n]}") ;;
    esac
    : >"$B/logs/$name.log"
    local t0 t1 ok=1 end=$((SECONDS + 120))
    t0=$(date +%s%N)
    start_proc "$name" $CPU_PROXY "$B/logs/$name.log" "${cmd[@]}"
    while [ $SECONDS -lt $end ] && kill -0 "${PID[$name]}" 2>/dev/null; do
        if port_open 127.0.0.1 $P_START &&
           "$B/tlsload" -m conn -n 1 -c 1 -t 2 -s "$last" 127.0.0.1 $P_START >/dev/null 2>&1; then
            ok=0
            break
        fi
        sleep 0.002
    done
    t1=$(date +%s%N)
    if [ $ok = 0 ]; then
        local pid
        sleep 0.2
        pid=$(serving_pid "$name")
        record "$r" startup "$s" "ms_$n" \
            "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
        record "$r" startup "$s" "rss_kib_$n" "$(rss_kib "$pid")"
        say "  startup $s N=$n: $(( (t1 - t0) / 1000000 )) ms, RSS $(rss_kib "$pid") KiB"
    else
        note "$s|startup: N=$n did not route $last within 120 s (see logs/$name.log)"
    fi
    stop_proc "$name"
}

run_startup() {
    local n r s
    declare -gA SY_START
    for n in $SIZES; do
        gen_domains "$n"
        if has "$SUBJECTS" switchyard && [ -z "${SKIP[switchyard]:-}" ]; then
            local why
            if why=$(build_switchyard_start "$n"); then
                SY_START[$n]=$why
            else
                note "switchyard|startup: N=$n skipped: $why"
            fi
        elif has "$SUBJECTS" switchyard; then
            note "switchyard|startup: N=$n skipped: ${SKIP[switchyard]}"
        fi
    done
    for r in $(seq $START_REPS); do
        for n in $SIZES; do
            for s in $SUBJECTS; do
                case $s in direct|switchyard-kernel) continue ;; esac
                [ -n "${SKIP[$s]:-}" ] && [ $s != switchyard ] && continue
                if [ $s = sniproxy ] && [ "$n" -gt 100000 ]; then
                    [ "$r" = 1 ] && note "sniproxy|startup: N=$n skipped: its table is" \
                        "a list of regular expressions tried in order"
                    continue
                fi
                run_startup_one "$r" "$s" "$n"
            done
        done
    done
}

run_table() {
    local t=$HERE/table/run.sh
    if [ ! -x "$t" ]; then
        note "table: skipped: tests/bench/table/run.sh is not there yet" \
             "(lookup ns, yardc+cc build time vs N)"
        return 0
    fi
    echo "[table] (cd $ROOT && timeout 1800 tests/bench/table/run.sh $SIZES)" >>"$CMDS"
    say "  table: tests/bench/table/run.sh $SIZES"
    if ! (cd "$ROOT" && timeout 1800 tests/bench/table/run.sh $SIZES) >"$B/table.out" 2>&1; then
        note "table: tests/bench/table/run.sh failed: $(tail -n 1 "$B/table.out")"
    fi
}

# The build of BUILD_N generated domains, .yard to binary, step by step: time, peak memory,
# binary size (tests/bench/table/build.sh).
run_build() {
    local t=$HERE/table/build.sh
    echo "[build] (cd $ROOT && SITE_LIBS='$SITE_LIBS' tests/bench/table/build.sh -r $BUILD_RUNS $BUILD_N)" >>"$CMDS"
    say "  build: tests/bench/table/build.sh -r $BUILD_RUNS $BUILD_N"
    if ! make -C "$ROOT" --no-print-directory build/yardc build/libswitchyard.a \
            build/obj/runtime/main.o >"$B/logs/build-tools.log" 2>&1; then
        note "build: skipped: make failed: $(first_error "$B/logs/build-tools.log")"
        return 0
    fi
    if ! (cd "$ROOT" && timeout 1800 "$t" -r "$BUILD_RUNS" "$BUILD_N") >"$B/build.out" 2>&1; then
        note "build: tests/bench/table/build.sh failed: $(tail -n 1 "$B/build.out")"
    fi
}

write_versions() {
    {
        echo "haproxy:   $(haproxy -v 2>&1 | head -n 1)"
        echo "nginx:     $(nginx -v 2>&1)"
        echo "sniproxy:  $(sniproxy -V 2>&1 | head -n 1)"
        echo "wrk:       $(wrk -v 2>&1 | head -n 1)"
        echo "openssl:   $(openssl version)"
        echo "curl:      $(curl --version | head -n 1)"
        echo "gnuplot:   $(gnuplot --version)"
        echo "cc:        $(cc --version | head -n 1)"
        echo "libev:     $(dpkg-query -W -f='${Version}' libev-dev 2>/dev/null || echo '?')"
        echo "ngtcp2:    $(dpkg-query -W -f='${Version}' ngtcp2-client 2>/dev/null || echo '?')" \
             "(gtlsclient, gtlsserver)"
        if [ -x "$SY_BIN" ]; then
            echo "switchyard: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
                 "(build/benchsite/switchyard, $(stat -c %s "$SY_BIN") bytes)"
        else
            echo "switchyard: not built"
        fi
    } >"$B/versions.txt"
}

write_params() {
    local v
    for v in QUICK REPS DUR MAXREQ NIDLE BIG_MB BULK_GETS SIZES START_REPS BUILD_N BUILD_RUNS \
             SUBJECTS CAP_HTTP CAP_TLS Q_HS QUIC_FLOWS \
             SUBJECTS CAP_HTTP CAP_TLS SC_DUR SC_MAX SC_WORKLOADS \
             CPU_LOAD CPU_PROXY FD_LIMIT PROXY_MAXCONN CLK_TCK LOAD_BEFORE; do
        printf '%s=%q\n' "$v" "${!v}"
    done >"$B/params.env"
}

# One run of a workload against a subject: its figures go to results.tsv.
run_workload() {    # round workload subject
    local r=$1 wl=$2 s=$3
    case $wl in
    http_ka) run_wrk "$r" $wl "$s" 64 ;;
    http_close) run_wrk "$r" $wl "$s" 32 -H "Connection: close" ;;
    tls_conn) run_tlsload "$r" $wl "$s" conn 32 ;;
    *_cap) [ "$s" = direct ] || [ -z "$CG" ] || case $wl in
        http_ka_cap) capped $CAP_HTTP "$r" $wl "$s" run_wrk "$r" $wl "$s" 64 ;;
        http_close_cap) capped $CAP_HTTP "$r" $wl "$s" \
            run_wrk "$r" $wl "$s" 32 -H "Connection: close" ;;
        tls_conn_cap) capped $CAP_TLS "$r" $wl "$s" \
            run_tlsload "$r" $wl "$s" conn 32 ;;
        bulk_tls_cap) capped $CAP_TLS "$r" $wl "$s" run_bulk "$r" $wl "$s" ;;
        esac ;;
    tls_ka) run_tlsload "$r" $wl "$s" ka 64 ;;
    bulk_http|bulk_tls) run_bulk "$r" $wl "$s" ;;
    mem_http|mem_tls) run_mem "$r" $wl "$s" ;;
    quic_*) run_quic "$r" $wl "$s" ;;
    esac
}

# ---------------------------------------------------------------- main
# Everything runs from one function, so bash has read the whole file before the first
# measurement (editing the script during a run cannot derail it).
main() {

    LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
    check_tools
    check_ports
    prepare
    syscalls_probe
    say "== setup: results in $B"

    for s in $SUBJECTS; do
        case $s in
        switchyard|switchyard-kernel)
            [ -n "${SY_TRIED:-}" ] || { build_switchyard; SY_TRIED=1; }
            [ -n "${SKIP[switchyard]:-}" ] && SKIP[$s]=${SKIP[switchyard]} ;;
        direct|haproxy|nginx|sniproxy) ;;
        *) echo "run.sh: unknown subject $s" >&2; exit 2 ;;
        esac
    done

    write_versions
    start_backends
    has_quic && start_quic_backends
    for s in $SUBJECTS; do
        [ -n "${SKIP[$s]:-}" ] && { note "$s: skipped: ${SKIP[$s]}"; continue; }
        START_WHY=""
        if ! start_subject "$s"; then
            SKIP[$s]=${START_WHY:-"did not start (see build/bench/logs/$s*.log)"}
            note "$s: skipped: ${SKIP[$s]}"
            stop_proc "$s"
            continue
        fi
        if ! verify_subject "$s"; then
            SKIP[$s]="routes wrongly (see the verification lines above)"
            note "$s: skipped: ${SKIP[$s]}"
            stop_proc "$s"
            continue
        fi
        say "  $s: routes a.bench.test and b.bench.test to their own backends"
        has_quic && [ -n "$(quic_addr "$s")" ] && verify_quic "$s"
    done
    [ $VERIFY_ONLY = 1 ] && { say "verify only: done"; exit 0; }

    ACTIVE=""
    for s in $SUBJECTS; do [ -z "${SKIP[$s]:-}" ] && ACTIVE+=" $s"; done
    if [[ " $WORKLOADS " == *_cap\ * ]]; then
        cap_setup || { note "capped workloads: skipped: $CAP_WHY"; cap_remove; }
    fi

    for r in $(seq "$REPS"); do
        say "== round $r of $REPS"
        for wl in $WORKLOADS; do
            for s in $ACTIVE; do
                applies "$s" "$wl" && ensure_started "$s" "$wl" || continue
                run_workload "$r" "$wl" "$s"
                count_syscalls "$r" "$wl" "$s"
                kernel_refusals "$s" "$wl"
            done
        done
    done
    for s in $ACTIVE; do stop_proc "$s"; done

    if has "$WORKLOADS" startup; then
        say "== start-up time and RSS vs table size"
        run_startup
    fi
    has "$WORKLOADS" table && run_table
    has "$WORKLOADS" build && run_build

    stop_proc backend
    stop_quic_backends
    write_params
    "$HERE/report.sh" "$B"
}

main
