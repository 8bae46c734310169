#!/usr/bin/env bash
# Layer-7 benchmark: switchyard against HAProxy 2.6 (mode http, Host routing), one nginx
# worker on [::1] as the backend. Writes build/bench-l7/results.tsv and prints medians.
#
#   tests/bench/l7/run.sh [--reps N] [--dur S] [--subjects "switchyard haproxy ..."]
#                         [--workloads "ka close"] [--strace] [--bin NAME=PATH ...]
#
# A subject is "haproxy" or a switchyard binary: "switchyard" is build/bench-l7/b's build
# of tests/bench/l7/l7bench.yard; --bin base=/path/switchyard adds another (same site).
# The proxy runs on CPU 1, wrk and nginx on CPU 0; subjects are interleaved (A B A B ...).
# Per run: requests/s, p50/p99 latency (wrk --latency), and the proxy's CPU time per
# request (utime+stime from /proc/PID/stat around the run). --strace adds one short run
# per subject and workload under `strace -c -f` for syscalls per request.
# Loopback only; every wrk run is bounded in time (-d, timeout) and in count (a Lua
# response counter); only the PIDs started here are stopped, on any exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE=$ROOT/tests/bench/l7
B=$ROOT/build/bench-l7
P_SY=33080 P_HA=33180 P_A=33081 P_B=33082
CPU_LOAD=0 CPU_PROXY=1
REPS=3 DUR=10 CONNS=50 SUBJECTS="switchyard haproxy" WORKLOADS="ka close" STRACE=0
WRK_MAX=20000000
declare -A BIN PID
BIN[switchyard]=$B/b/l7bench/switchyard

while [ $# -gt 0 ]; do
    case $1 in
    --reps) REPS=$2; shift ;;
    --dur) DUR=$2; shift ;;
    --subjects) SUBJECTS=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --strace) STRACE=1 ;;
    --bin) BIN[${2%%=*}]=${2#*=}; shift ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
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

wait_port() {   # host port seconds
    local end=$((SECONDS + $3))
    while [ $SECONDS -lt $end ]; do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "run.sh: nothing listens on $1 $2" >&2
    return 1
}

start() {       # name cpu log cmd...
    local name=$1 cpu=$2 log=$3
    shift 3
    taskset -c "$cpu" "$@" >"$log" 2>&1 </dev/null &
    PID[$name]=$!
}

stop() {        # name
    local pid=${PID[$1]:-} i
    [ -z "$pid" ] && return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "PID[$1]"
}

cpu_ticks() {   # pid -> utime+stime in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

write_confs() {
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
    cat >"$B/conf/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 20000
    log stderr format raw local0 info

defaults
    log global
    maxconn 20000
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
    bind 127.0.0.1:$P_HA
    use_backend %[req.hdr(host),lower,word(1,:)]_http

backend a.bench.test_http
    mode http
    server a_http [::1]:$P_A

backend b.bench.test_http
    mode http
    server b_http [::1]:$P_B
EOF
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
# socket may hold the proxy's port for a moment: retry the start a bounded number of times.
start_subject() {   # subject -> port on stdout
    local s=$1 port=$P_SY log=$B/logs/$1.log try end cmd
    if [ "$s" = haproxy ]; then
        port=$P_HA cmd=(haproxy -db -f "$B/conf/haproxy.cfg")
    else
        cmd=("${BIN[$s]}")
    fi
    for try in $(seq 20); do
        start proxy $CPU_PROXY "$log" "${cmd[@]}"
        end=$((SECONDS + 10))
        while [ $SECONDS -lt $end ] && kill -0 "${PID[proxy]}" 2>/dev/null; do
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                echo "$port"
                return 0
            fi
            sleep 0.1
        done
        stop proxy
        sleep 0.5
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
syscalls() {    # subject workload port
    local s=$1 w=$2 port=$3 out=$B/logs/strace.$s.$w.txt wout=$B/logs/wrk-strace.$s.$w.txt
    local hdr=() sp reqs
    [ "$w" = close ] && hdr=(-H 'Connection: close')
    strace -c -f -o "$out" -p "${PID[proxy]}" 2>/dev/null &
    sp=$!
    sleep 0.5
    WRK_MAX=$WRK_MAX taskset -c $CPU_LOAD timeout -k 2 20 \
        wrk -t1 -c$CONNS -d3s -s "$B/conf/bound.lua" -H 'Host: a.bench.test' "${hdr[@]}" \
        "http://127.0.0.1:$port/" >"$wout" 2>&1
    kill -INT $sp 2>/dev/null
    wait $sp 2>/dev/null
    reqs=$(awk '/requests in/ { print $1 }' "$wout")
    echo "syscalls/request $s $w (requests: $reqs)"
    awk -v n="$reqs" '$NF ~ /^[a-z_0-9]+$/ && $1 ~ /^[0-9.]+$/ && NF >= 5 {
            calls = $4; printf "  %-16s %8.3f\n", $NF, calls / n; tot += calls }
        END { printf "  %-16s %8.3f\n", "total", tot / n }' "$out" | sort -k2 -nr | head -12
}

write_confs
start backend $CPU_LOAD "$B/logs/backend.out.log" nginx -e "$B/logs/backend.error.log" \
    -c "$B/conf/backend.conf"
wait_port ::1 $P_A 10 || exit 1
for s in $SUBJECTS; do
    [ "$s" = haproxy ] || [ -x "${BIN[$s]:-}" ] || { echo "run.sh: no binary for $s" >&2; exit 1; }
done

printf 'round\tsubject\tworkload\trps\tp50_ms\tp99_ms\tcpu_us_per_req\terrors\n' | tee -a "$RES"
for r in $(seq "$REPS"); do
    for s in $SUBJECTS; do
        port=$(start_subject "$s") || exit 1
        curl -fsS -o /dev/null -H 'Host: a.bench.test' "http://127.0.0.1:$port/" ||
            { echo "run.sh: $s does not answer" >&2; exit 1; }
        for w in $WORKLOADS; do
            measure "$r" "$s" "$w" "$port"
        done
        stop proxy
    done
done

echo
echo "medians over $REPS rounds:"
awk -F'\t' 'NR > 1 && $1 ~ /^[0-9]+$/ {
        k = $2 "\t" $3; n[k]++; rps[k, n[k]] = $4; p50[k, n[k]] = $5; p99[k, n[k]] = $6
        cpu[k, n[k]] = $7 }
    function med(a, k, c,    i, j, t, v) {
        for (i = 1; i <= c; i++) v[i] = a[k, i]
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
            if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
        return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
    END { printf "%-12s %-6s %10s %8s %8s %8s\n", "subject", "wl", "rps", "p50ms", "p99ms", "cpu_us"
        for (k in n) { split(k, f, "\t")
            printf "%-12s %-6s %10.0f %8.3f %8.3f %8.2f\n", f[1], f[2], med(rps, k, n[k]),
                med(p50, k, n[k]), med(p99, k, n[k]), med(cpu, k, n[k]) } }' "$RES" | sort

if [ $STRACE = 1 ]; then
    for s in $SUBJECTS; do
        port=$(start_subject "$s") || exit 1
        for w in $WORKLOADS; do
            syscalls "$s" "$w" "$port"
        done
        stop proxy
    done
fi
