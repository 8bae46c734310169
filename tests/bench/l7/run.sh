#!/usr/bin/env bash
# Layer-7 benchmark: switchyard against HAProxy 2.6 (mode http, Host routing), one nginx
# worker on [::1] as the backend. Writes build/bench-l7/results.tsv and prints medians.
#
#   tests/bench/l7/run.sh [--reps N] [--dur S] [--subjects "switchyard haproxy ..."]
#                         [--workloads "ka close"] [--strace] [--perf] [--src NAME=DIR ...]
#
# A subject is "haproxy" or a switchyard: "switchyard" is built from this tree, and
# --src base=DIR adds one built from the source tree DIR (to compare two versions).
# Ports are chosen free in 33000-33999 at start (they lie in the kernel's ephemeral range,
# where other programs' client sockets come and go), so the site is written then and
# every switchyard is built for it under build/bench-l7/<name>/.
# The proxy runs on CPU 1, wrk and nginx on CPU 0; subjects are interleaved (A B A B ...).
# Per run: requests/s, p50/p99 latency (wrk --latency), and the proxy's CPU time per
# request (utime+stime from /proc/PID/stat around the run). --strace adds one short run
# per subject and workload under `strace -c -f` for syscalls per request; --perf records a
# profile of each switchyard subject (build/bench-l7/perf.<subject>.<workload>.data).
# Loopback only; every wrk run is bounded in time (-d, timeout) and in count (a Lua
# response counter); only the PIDs started here are stopped, on any exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
B=$ROOT/build/bench-l7
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
CPU_LOAD=0 CPU_PROXY=1
REPS=3 DUR=10 CONNS=50 SUBJECTS="switchyard haproxy" WORKLOADS="ka close" STRACE=0 PERF=0
WRK_MAX=20000000
declare -A SRC PID
SRC[switchyard]=$ROOT

while [ $# -gt 0 ]; do
    case $1 in
    --reps) REPS=$2; shift ;;
    --dur) DUR=$2; shift ;;
    --subjects) SUBJECTS=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --strace) STRACE=1 ;;
    --perf) PERF=1 ;;
    --src) SRC[${2%%=*}]=$(cd "${2#*=}" && pwd) || exit 2; shift ;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    shift
done

mkdir -p "$B"/{conf,logs,run,tmp,www}
RES=$B/results.tsv
: >"$RES"

cleanup() {
    local n
    for n in "${!PID[@]}"; do
        kill -TERM "${PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {       # name cpu log cmd...
    local name=$1 cpu=$2 log=$3
    shift 3
    taskset -c "$cpu" "$@" >"$log" 2>&1 </dev/null &
    PID[$name]=$!
}

# PICKED: a port of 33000-33999 that no socket uses now and that this run has not taken.
pick_port() {
    local used p i
    used=$(ss -Htan | awk '{ print $4 }' | sed -n 's/.*:\(33[0-9][0-9][0-9]\)$/\1/p')
    for i in $(seq 1000); do
        p=$((33000 + (RANDOM % 1000)))
        case " $TAKEN " in *" $p "*) continue ;; esac
        grep -qx "$p" <<<"$used" && continue
        TAKEN+=" $p"
        PICKED=$p
        return 0
    done
    echo "run.sh: no free port in 33000-33999" >&2
    exit 1
}

# New ports for subject s: write its configuration (switchyard: build it for them).
prepare() {     # subject
    local s=$1 d=$B/site-$1
    pick_port
    PORT_OF[$s]=$PICKED
    if [ "$s" = haproxy ]; then
        write_haproxy_conf "${PORT_OF[$s]}"
        return
    fi
    mkdir -p "$d"
    cat >"$d/l7bench.yard" <<EOF
# Layer-7 benchmark site, written by tests/bench/l7/run.sh.
global { log stderr; workers 1; maxconn 4000; }
defaults { timeout connect 5s; timeout client 50s; timeout server 50s; timeout inspect 5s; }

listen web http 127.0.0.1:${PORT_OF[$s]};

site a.bench.test { http [::1]:$P_A; }
site b.bench.test { http [::1]:$P_B; }
EOF
    make -s -C "${SRC[$s]}" BUILD="$B/$s" SITE="$d/l7bench.yard" \
        "$B/$s/l7bench/switchyard" >"$B/logs/build.$s.log" 2>&1 ||
        { cat "$B/logs/build.$s.log" >&2; exit 1; }
}

write_backend_conf() {
    cat >"$B/conf/backend.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $B/run/backend.pid;
error_log $B/logs/backend.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    client_body_temp_path $B/tmp/body;
    proxy_temp_path $B/tmp/proxy;
    fastcgi_temp_path $B/tmp/fastcgi;
    uwsgi_temp_path $B/tmp/uwsgi;
    scgi_temp_path $B/tmp/scgi;
    server { listen [::1]:$P_A backlog=4096; location = / { return 200 "a-http\n"; } }
    server { listen [::1]:$P_B backlog=4096; location = / { return 200 "b-http\n"; } }
}
EOF
}

write_haproxy_conf() {  # port
    cat >"$B/conf/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
    log stderr format raw local0 info

defaults
    log global
    maxconn 4000
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    timeout http-request 5s
    option dontlognull
    option http-keep-alive
    http-reuse safe

frontend www
    mode http
    option httplog
    bind 127.0.0.1:$1
    use_backend %[req.hdr(host),lower,word(1,:)]_http

backend a.bench.test_http
    mode http
    server a_http [::1]:$P_A

backend b.bench.test_http
    mode http
    server b_http [::1]:$P_B
EOF
}

write_lua() {
    cat >"$B/conf/bound.lua" <<'EOF'
-- Stop each wrk thread after WRK_MAX responses: every run is bounded in count and time.
local n, max = 0, tonumber(os.getenv("WRK_MAX") or "1000000")
function response(status, headers, body)
    n = n + 1
    if n >= max then wrk.thread:stop() end
end
EOF
}

# Ports 33000-33999 lie in the kernel's ephemeral range, so another program's client
# socket may take one between the choice and the bind: then retry on new ports, a bounded
# number of times. A start is up when its ports accept connections.
is_up() {       # name host port...
    local name=$1 host=$2 end=$((SECONDS + 5)) p ok
    shift 2
    while [ $SECONDS -lt $end ] && kill -0 "${PID[$name]}" 2>/dev/null; do
        ok=1
        for p in "$@"; do
            (exec 3<>"/dev/tcp/$host/$p") 2>/dev/null || ok=0
        done
        [ $ok = 1 ] && return 0
        sleep 0.1
    done
    return 1
}

start_backend() {
    local try
    for try in $(seq 20); do
        pick_port
        P_A=$PICKED
        pick_port
        P_B=$PICKED
        write_backend_conf
        start backend $CPU_LOAD "$B/logs/backend.out.log" \
            nginx -e "$B/logs/backend.error.log" -c "$B/conf/backend.conf"
        is_up backend ::1 "$P_A" "$P_B" && return 0
        stop_proc backend
    done
    echo "run.sh: the backend nginx did not start (see $B/logs/backend.error.log)" >&2
    exit 1
}

start_subject() {   # subject -> PORT
    local s=$1 log=$B/logs/$1.log try cmd
    for try in $(seq 20); do
        if [ "$s" = haproxy ]; then
            cmd=(haproxy -db -f "$B/conf/haproxy.cfg")
        else
            cmd=("$B/$s/l7bench/switchyard")
        fi
        start proxy $CPU_PROXY "$log" "${cmd[@]}"
        if is_up proxy 127.0.0.1 "${PORT_OF[$s]}"; then
            PORT=${PORT_OF[$s]}
            return 0
        fi
        stop_proc proxy
        prepare "$s"
    done
    echo "run.sh: $s did not start (see $log)" >&2
    return 1
}

# One measured run: rps, p50, p99 (ms), CPU µs per request, errors.
measure() {     # round subject workload port
    local r=$1 s=$2 w=$3 port=$4 out=$B/logs/wrk.$s.$w.$r.txt t0 t1 reqs rps p50 p99 errs
    local hdr=()
    [ "$w" = close ] && hdr=(-H 'Connection: close')
    t0=$(cpu_ticks "${PID[proxy]}")
    WRK_MAX=$WRK_MAX taskset -c $CPU_LOAD timeout -k 2 $((DUR + 15)) \
        wrk -t1 -c$CONNS -d${DUR}s --latency -s "$B/conf/bound.lua" \
        -H 'Host: a.bench.test' "${hdr[@]}" "http://127.0.0.1:$port/" >"$out" 2>&1
    t1=$(cpu_ticks "${PID[proxy]}")
    reqs=$(awk '/requests in/ { print $1 }' "$out")
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    errs=$(awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }' "$out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$w" "$rps" "$(to_ms "$p50")" \
        "$(to_ms "$p99")" "$(awk -v t=$((t1 - t0)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')" "${errs:--}" | tee -a "$RES"
}

to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else print "-" }'
}

# Syscalls per request: a short run with strace -c attached to the proxy.
syscalls() {    # subject workload port [perf]
    local s=$1 w=$2 port=$3 out=$B/logs/strace.$s.$w.txt wout=$B/logs/wrk-strace.$s.$w.txt
    local hdr=() sp reqs
    [ "$w" = close ] && hdr=(-H 'Connection: close')
    if [ "${4:-}" = perf ]; then
        out=$B/perf.$s.$w.data
        timeout -k 2 20 perf record -g -o "$out" -p "${PID[proxy]}" 2>/dev/null &
    else
        strace -c -f -o "$out" -p "${PID[proxy]}" 2>/dev/null &
    fi
    sp=$!
    sleep 0.5
    WRK_MAX=$WRK_MAX taskset -c $CPU_LOAD timeout -k 2 20 \
        wrk -t1 -c$CONNS -d3s -s "$B/conf/bound.lua" -H 'Host: a.bench.test' "${hdr[@]}" \
        "http://127.0.0.1:$port/" >"$wout" 2>&1
    kill -INT $sp 2>/dev/null
    wait $sp 2>/dev/null
    reqs=$(awk '/requests in/ { print $1 }' "$wout")
    if [ "${4:-}" = perf ]; then
        echo "profile $s $w: perf report -i $out --no-children"
        return
    fi
    echo "syscalls/request $s $w (requests: $reqs)"
    awk -v n="$reqs" '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $1 ~ /^[0-9.]+$/ && NF >= 5 {
            calls = $4; printf "  %-16s %8.3f\n", $NF, calls / n; tot += calls }
        END { printf "  %-16s %8.3f\n", "total", tot / n }' "$out" | sort -k2 -nr | head -12
}

for s in $SUBJECTS; do
    [ "$s" = haproxy ] || [ -n "${SRC[$s]:-}" ] || { echo "run.sh: no source for $s" >&2; exit 1; }
done
TAKEN=""
declare -A PORT_OF
write_lua
start_backend
for s in $SUBJECTS; do
    prepare "$s"
done

printf 'round\tsubject\tworkload\trps\tp50_ms\tp99_ms\tcpu_us_per_req\terrors\n' | tee -a "$RES"
for r in $(seq "$REPS"); do
    for s in $SUBJECTS; do
        start_subject "$s" || exit 1
        curl -fsS -o /dev/null -H 'Host: a.bench.test' "http://127.0.0.1:$PORT/" ||
            { echo "run.sh: $s does not answer" >&2; exit 1; }
        for w in $WORKLOADS; do
            measure "$r" "$s" "$w" "$PORT"
        done
        stop_proc proxy
    done
done

echo
echo "medians over $REPS rounds:"
printf "%-12s %-6s %10s %8s %8s %8s\n" subject wl rps p50ms p99ms cpu_us
awk -F'\t' 'NR > 1 && $1 ~ /^[0-9]+$/ {
        k = $2 "\t" $3; n[k]++; rps[k, n[k]] = $4; p50[k, n[k]] = $5; p99[k, n[k]] = $6
        cpu[k, n[k]] = $7 }
    function med(a, k, c,    i, j, t, v) {
        for (i = 1; i <= c; i++) v[i] = a[k, i]
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
            if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
        return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
    END { for (k in n) { split(k, f, "\t")
            printf "%-12s %-6s %10.0f %8.3f %8.3f %8.2f\n", f[1], f[2], med(rps, k, n[k]),
                med(p50, k, n[k]), med(p99, k, n[k]), med(cpu, k, n[k]) } }' "$RES" | sort

if [ $STRACE = 1 ]; then
    for s in $SUBJECTS; do
        start_subject "$s" || exit 1
        for w in $WORKLOADS; do
            syscalls "$s" "$w" "$PORT"
        done
        stop_proc proxy
    done
fi

if [ $PERF = 1 ]; then
    for s in $SUBJECTS; do
        [ "$s" = haproxy ] && continue
        start_subject "$s" || exit 1
        for w in $WORKLOADS; do
            syscalls "$s" "$w" "$PORT" perf
        done
        stop_proc proxy
    done
fi
