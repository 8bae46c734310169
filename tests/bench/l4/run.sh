#!/usr/bin/env bash
# Layer-4 measurements: switchyard against HAProxy 2.6 (mode tcp, SNI routing, one thread)
# and a direct connection, same run, side by side. Prints one line per run and a summary
# of medians.
#
#   tests/bench/l4/run.sh [--reps N] [--only "bulk conn idle"] [--bulk-mib M] [--conns N]
#                         [--idle N] [--subjects "direct switchyard haproxy"] [--before BIN]
#
#   --before BIN  adds subject "before": another switchyard binary built from the same
#                 site (an older runtime), for before/after figures in the same run.
#
#   bulk   one connection, M MiB (default 2048) client -> proxy -> [::1] sink: MiB/s, and the
#          proxy's CPU seconds per GiB.
#   conn   N new connections (default 20000), 64 at a time: hello, 1400 bytes of answer,
#          close. Connections per second and the proxy's CPU microseconds per connection.
#   idle   N routed connections (default 9900: a proxy needs two descriptors each, and the
#          hard limit here is 20000) held idle: proxy RSS per connection.
#
# Loopback only, ports 32000-32999; proxy pinned to CPU 1, load and sink to CPU 0. Every
# load run is bounded in count and in time; only the PIDs started here are stopped.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE=$ROOT/tests/bench/l4
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
B=$ROOT/build/bench-l4
REPS=3 ONLY="bulk conn idle" BULK_MIB=2048 CONNS=20000 IDLE=9900
SUBJECTS="direct switchyard haproxy" BEFORE=
SY_PORT=32443 HA_PORT=32444 SINK_PORT=32001
CPU_PROXY=1 CPU_LOAD=0

while [ $# -gt 0 ]; do
    case $1 in
    --reps) REPS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --bulk-mib) BULK_MIB=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --subjects) SUBJECTS=$2; shift ;;
    --before) BEFORE=$2; SUBJECTS="$SUBJECTS before"; shift ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    shift
done

mkdir -p "$B"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
}
trap cleanup EXIT INT TERM

make -C "$ROOT" -s SITE=tests/bench/l4/l4bench.yard build/l4bench/switchyard >/dev/null || exit 1
cc -std=c11 -O2 -o "$B/l4load" "$HERE/l4load.c" || exit 1
LOAD="taskset -c $CPU_LOAD $B/l4load"

wait_port() {       # wait_port PORT: until something listens (5 s deadline)
    local end=$((SECONDS + 5))
    while [ $SECONDS -lt $end ]; do
        ss -Htln "sport = :$1" | grep -q . && return 0
        sleep 0.05
    done
    echo "run.sh: nothing listens on port $1" >&2
    return 1
}

TCK=$(getconf CLK_TCK)
SINK_PID=
start_sink() {
    $LOAD sink -p $SINK_PORT -r 1400 >"$B/sink.out" 2>&1 &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    wait_port $SINK_PORT
}

PROXY_PID=
start_proxy() {     # start_proxy SUBJECT: sets PROXY_PID and PORT
    case $1 in
    direct) PROXY_PID= PORT=$SINK_PORT ADDR=::1; return 0 ;;
    switchyard|before)
        bin=$ROOT/build/l4bench/switchyard
        [ "$1" = before ] && bin=$BEFORE
        taskset -c $CPU_PROXY "$bin" 2>/dev/null &
        PORT=$SY_PORT ;;
    haproxy)
        taskset -c $CPU_PROXY haproxy -db \
            -f "$HERE/haproxy.cfg" >/dev/null 2>&1 &
        PORT=$HA_PORT ;;
    esac
    PROXY_PID=$!
    ADDR=127.0.0.1
    PIDS+=("$PROXY_PID")
    wait_port "$PORT"
}

stop_proxy() {
    [ -z "$PROXY_PID" ] && return 0
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

declare -A R
record() { R[$1]="${R[$1]:-} $2"; }      # record KEY VALUE

start_sink
for rep in $(seq 1 "$REPS"); do
    for s in $SUBJECTS; do
        case " $ONLY " in *" bulk "*)
            start_proxy "$s" || exit 1
            c0=$(cpu_ticks "$PROXY_PID")
            out=$($LOAD bulk -a $ADDR -p "$PORT" -b $((BULK_MIB << 20)) -t 60)
            c1=$(cpu_ticks "$PROXY_PID")
            mib=$(sed -n 's/.*mib_s=\([0-9]*\).*/\1/p' <<<"$out")
            cpu=$(awk -v d=$((c1 - c0)) -v t="$TCK" -v m="$BULK_MIB" \
                'BEGIN { printf "%.2f", d / t / (m / 1024) }')
            echo "bulk $s rep=$rep $out proxy_cpu_s_per_gib=$cpu"
            record "bulk_$s" "$mib"
            record "bulkcpu_$s" "$cpu"
            stop_proxy ;;
        esac
        case " $ONLY " in *" conn "*)
            start_proxy "$s" || exit 1
            $LOAD conn -a $ADDR -p "$PORT" -N 2000 -c 64 -r 1400 -t 20 >/dev/null  # warm-up
            c0=$(cpu_ticks "$PROXY_PID")
            out=$($LOAD conn -a $ADDR -p "$PORT" -N "$CONNS" -c 64 -r 1400 -t 60)
            c1=$(cpu_ticks "$PROXY_PID")
            rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$out")
            us=$(awk -v d=$((c1 - c0)) -v t="$TCK" -v n="$CONNS" \
                'BEGIN { printf "%.1f", d / t * 1e6 / n }')
            echo "conn $s rep=$rep $out proxy_cpu_us_per_conn=$us"
            record "conn_$s" "$rate"
            record "conncpu_$s" "$us"
            stop_proxy ;;
        esac
        case " $ONLY " in *" idle "*)
            [ "$s" = direct ] && continue
            start_proxy "$s" || exit 1
            $LOAD conn -a $ADDR -p "$PORT" -N 2000 -c 64 -r 1400 -t 20 >/dev/null  # warm-up
            r0=$(rss_kib "$PROXY_PID")
            $LOAD idle -a $ADDR -p "$PORT" -N "$IDLE" -c 256 -r 1400 -t 60 >"$B/idle.out" &
            idle_pid=$!
            PIDS+=("$idle_pid")
            end=$((SECONDS + 60))
            until grep -q '^ready' "$B/idle.out" || [ $SECONDS -ge $end ]; do sleep 0.1; done
            sleep 1
            r1=$(rss_kib "$PROXY_PID")
            fds=$(ls "/proc/$PROXY_PID/fd" | wc -l)
            kill "$idle_pid" 2>/dev/null
            wait "$idle_pid" 2>/dev/null
            per=$(( (r1 - r0) * 1024 / IDLE ))
            echo "idle $s rep=$rep $(head -1 "$B/idle.out") rss_before_kib=$r0" \
                "rss_after_kib=$r1 fds=$fds bytes_per_conn=$per"
            record "idle_$s" "$per"
            stop_proxy ;;
        esac
    done
done

echo
echo "medians of $REPS:"
for k in $(printf '%s\n' "${!R[@]}" | sort); do
    printf '  %-22s %s   (runs:%s)\n' "$k" "$(tr ' ' '\n' <<<"${R[$k]}" | grep . | median)" \
        "${R[$k]}"
done
