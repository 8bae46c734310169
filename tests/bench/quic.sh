# The QUIC workloads of the benchmark harness; sourced by tests/bench/run.sh, whose
# helpers (start_proc, record, note, cpu_begin, idle_rss, ...) they use.
#
# switchyard's quic listener (tests/bench/benchsite.yard) against direct, the client
# talking straight to the server: ngtcp2's HTTP/3 client and server (gtlsclient,
# gtlsserver) for handshakes and transfers, tests/bench/quicload.c for datagram rates and
# idle flows. HAProxy, nginx and sniproxy cannot route QUIC by SNI: they are not measured.

QUIC_WORKLOADS="quic_hs quic_bulk quic_dgram quic_mem"
QUIC_FLOWS=64           # quic_dgram: flows, each with one datagram in flight at a time
declare -A QSKIP        # subject -> why its QUIC workloads are skipped
# Debian installs ngtcp2's example programs in /usr/sbin.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac

has_quic() { [[ " $WORKLOADS " == *" quic_"* ]]; }

# quic_port SUBJECT SITE: the UDP port a client of site a, b or c (the echo) writes to.
quic_port() {
    case $1:$2 in
    direct:a) echo $P_QUIC_A ;;
    direct:b) echo $P_QUIC_B ;;
    direct:c) echo $P_QUIC_ECHO ;;
    switchyard:*) echo $P_SY_QUIC ;;
    *) return 1 ;;
    esac
}

quic_addr() {       # subject -> the address its QUIC clients write to
    case $1 in
    direct) echo ::1 ;;
    switchyard) echo 127.0.0.1 ;;
    *) return 1 ;;
    esac
}

wait_udp() {        # name port seconds: until something is bound to UDP port
    local end=$((SECONDS + $3))
    while [ $SECONDS -lt $end ]; do
        ss -Hlun "sport = :$2" | grep -q . && return 0
        kill -0 "${PID[$1]}" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# HTTP/3 servers for a and b (the certificates of the TLS backends) and the datagram echo,
# pinned with the other backends.
start_quic_backends() {
    local s p
    write_quic_conf
    for s in a b; do
        p=$(quic_port direct $s)
        start_proc quic-$s $CPU_LOAD "$B/logs/quic-$s.log" gtlsserver -q -d "$B/quic/$s" \
            ::1 "$p" "$B/certs/$s.key" "$B/certs/$s.crt"
        wait_udp quic-$s "$p" 10 || { echo "run.sh: gtlsserver for $s did not start" >&2;
            tail "$B/logs/quic-$s.log" >&2; exit 1; }
    done
    start_proc quic-echo $CPU_LOAD "$B/logs/quic-echo.log" \
        "$B/quicload" -m echo ::1 $P_QUIC_ECHO
    wait_udp quic-echo $P_QUIC_ECHO 10 ||
        { echo "run.sh: the datagram echo did not start" >&2; exit 1; }
}

stop_quic_backends() {
    local n
    for n in quic-a quic-b quic-echo; do stop_proc $n; done
}

# quic_get SUBJECT COUNT URL: gtlsclient fetches URL COUNT times through the subject
# (tests/bench/quicget.sh: one "us= rc= bytes= body=" line per fetch).
quic_get() {
    local s=$1 n=$2 url=$3 host
    host=${url#https://}
    host=${host%%/*}
    taskset -c $CPU_LOAD "$HERE/quicget.sh" "$B/conf/hosts.$s" "$n" "$host" \
        "$(quic_port "$s" "${host%%.*}")" "$url" "$B/run/quicget"
}

quic_flood() {      # subject flows max seconds: quicload's flood through the subject
    taskset -c $CPU_LOAD timeout $(($4 + 30)) "$B/quicload" -m flood -s c.bench.test \
        -c "$2" -w 1 -n "$3" -t "$4" "$(quic_addr "$1")" "$(quic_port "$1" c)"
}

# Checks that the subject routes QUIC by SNI before anything is measured: each HTTP/3
# server answers with its own page, and a flow for the echo comes back. On failure the
# subject's QUIC workloads are skipped with the reason; the others still run.
verify_quic() {
    local s=$1 site out why="" wl
    for site in a b; do
        out=$(quic_get "$s" 1 "https://$site.bench.test/index.html" 2>&1)
        [[ "$out" == *" body=$site-quic" ]] ||
            why+="${why:+; }$site.bench.test over HTTP/3 -> '$(tr '\n' ' ' <<<"$out")'"
    done
    out=$(quic_flood "$s" 1 10 1 2>&1)
    [[ "$out" == *" routed=1 "* ]] ||
        why+="${why:+; }quicload to c.bench.test -> '$(tr '\n' ' ' <<<"$out")'"
    if [ -n "$why" ]; then
        say "  $s: QUIC: $why"
        QSKIP[$s]="routes QUIC wrongly (see the verification lines above)"
        for wl in $QUIC_WORKLOADS; do
            has "$WORKLOADS" "$wl" && note "$s|$wl: skipped: ${QSKIP[$s]}"
        done
        return 1
    fi
    say "  $s: routes a.bench.test, b.bench.test and c.bench.test over QUIC"
}

# percentiles: microseconds on stdin, one per line -> "median p90" in milliseconds
# (p90 by nearest rank).
percentiles() {
    sort -n | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) exit 1
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            i = int(NR * 0.9); if (i < NR * 0.9) i++
            printf "%.2f %.2f\n", m / 1000, v[i] / 1000
        }'
}

# Handshake time: Q_HS fetches of a small page, one after the other, each a new gtlsclient
# (new connection, full handshake); exec to exit, median and p90 of the round.
run_quic_hs() {     # round workload subject
    local r=$1 wl=$2 s=$3 out good n p50 p90 pid="" c0 c1
    [ "$r" = 1 ] && echo "[$wl/$s] taskset -c $CPU_LOAD tests/bench/quicget.sh" \
        "build/bench/conf/hosts.$s $Q_HS a.bench.test $(quic_port "$s" a)" \
        "https://a.bench.test/index.html build/bench/run/quicget" >>"$CMDS"
    [ "$s" = direct ] || pid=$(serving_pid "$s") || return 0
    c0=$(cpu_ns "$pid")
    out=$(quic_get "$s" "$Q_HS" https://a.bench.test/index.html 2>&1)
    c1=$(cpu_ns "$pid")
    printf '%s\n' "$out" >"$B/logs/load-$wl-$s.out"
    good=$(grep -E '^us=[0-9]+ rc=0 .* body=a-quic$' <<<"$out")
    n=$(grep -c . <<<"$good")
    if [ "$n" = 0 ]; then
        note "$s|$wl: round $r: no fetch completed: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
        return 0
    fi
    read -r p50 p90 < <(sed 's/^us=\([0-9]*\).*/\1/' <<<"$good" | percentiles)
    record "$r" "$wl" "$s" main "$p50"
    record "$r" "$wl" "$s" p90_ms "$p90"
    record "$r" "$wl" "$s" errors $((Q_HS - n))
    [ -n "$pid" ] && record "$r" "$wl" "$s" cpu_us "$(awk -v c=$((c1 - c0)) -v n="$n" \
        'BEGIN { printf "%.1f", c / 1000 / n }')"
    say "  $wl $s: p50 $p50 ms p90 $p90 ms ($n of $Q_HS)"
}

# Transfer rate: BULK_GETS downloads of the BIG_MB file, each a new gtlsclient.
run_quic_bulk() {   # round workload subject
    local r=$1 wl=$2 s=$3 out mbps
    [ "$r" = 1 ] && echo "[$wl/$s] taskset -c $CPU_LOAD tests/bench/quicget.sh" \
        "build/bench/conf/hosts.$s $BULK_GETS a.bench.test $(quic_port "$s" a)" \
        "https://a.bench.test/big build/bench/run/quicget" >>"$CMDS"
    out=$(quic_get "$s" "$BULK_GETS" https://a.bench.test/big 2>&1)
    printf '%s\n' "$out" >"$B/logs/load-$wl-$s.out"
    mbps=$(awk -v want=$((BIG_MB << 20)) '{ split($1, u, "="); split($3, b, "=")
            if ($2 != "rc=0" || b[2] != want) bad = 1; t += u[2]; n += b[2] }
        END { if (bad || NR == 0 || t == 0) exit 1; printf "%.1f", n / (t / 1e6) / 1048576 }' \
        <<<"$out") ||
        { note "$s|$wl: round $r: gtlsclient failed or short download: $(tr '\n' ' ' <<<"$out")"
          return 0; }
    record "$r" "$wl" "$s" main "$mbps"
    say "  $wl $s: $mbps MiB/s"
}

# Datagram rate: QUIC_FLOWS flows to the echo, each keeping one 1200-byte datagram in
# flight, for DUR seconds; every datagram that comes back crossed the relay twice. The
# proxy's CPU time over the run gives datagrams per second per core.
run_quic_dgram() {  # round workload subject
    local r=$1 wl=$2 s=$3 out pid="" c0 c1 got secs rate lost routed
    [ "$r" = 1 ] && echo "[$wl/$s] taskset -c $CPU_LOAD timeout $((DUR + 30)) build/bench/quicload" \
        "-m flood -s c.bench.test -c $QUIC_FLOWS -w 1 -n $MAXREQ -t $DUR" \
        "$(quic_addr "$s") $(quic_port "$s" c)" >>"$CMDS"
    [ "$s" = direct ] || pid=$(serving_pid "$s") || return 0
    c0=$(cpu_ns "$pid")
    out=$(quic_flood "$s" $QUIC_FLOWS "$MAXREQ" "$DUR" 2>&1)
    c1=$(cpu_ns "$pid")
    printf '%s\n' "$out" >"$B/logs/load-$wl-$s.out"
    got=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' <<<"$out")
    secs=$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<<"$out")
    rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")
    lost=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$out")
    routed=$(sed -n 's/.* routed=\([0-9]*\).*/\1/p' <<<"$out")
    if [ -z "$rate" ] || [ "${got:-0}" = 0 ]; then
        note "$s|$wl: round $r: no datagram came back: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
        return 0
    fi
    [ "$routed" -lt $QUIC_FLOWS ] && note "$s|$wl: round $r: only $routed of $QUIC_FLOWS flows routed"
    record "$r" "$wl" "$s" main "$rate"
    record "$r" "$wl" "$s" lost "$lost"
    local line="  $wl $s: $rate datagrams/s, $lost lost"
    if [ -n "$pid" ] && [ $((c1 - c0)) -gt 0 ]; then
        local moved=$((2 * got)) cpu_s
        cpu_s=$(awk -v c=$((c1 - c0)) 'BEGIN { printf "%.3f", c / 1e9 }')
        record "$r" "$wl" "$s" cpu_pct "$(awk -v c="$cpu_s" -v w="$secs" 'BEGIN { printf "%.0f", c / w * 100 }')"
        record "$r" "$wl" "$s" per_core "$(awk -v n=$moved -v c="$cpu_s" 'BEGIN { printf "%.0f", n / c }')"
        record "$r" "$wl" "$s" cpu_us "$(awk -v n=$moved -v c="$cpu_s" 'BEGIN { printf "%.3f", c * 1e6 / n }')"
        line+=", proxy CPU $cpu_s s: $(awk -v n=$moved -v c="$cpu_s" 'BEGIN { printf "%.0f", n / c }')/s per core"
    fi
    say "$line"
}

# Memory per idle flow: NIDLE flows to the echo, each routed (its Initial came back
# through the proxy), then the RSS growth / flows (idle_rss in run.sh). The proxy is
# restarted after: a QUIC flow outlives its client by `timeout client` (50 s), and the
# next workloads should not find thousands of them.
run_quic_mem() {    # round workload subject
    local r=$1 wl=$2 s=$3
    [ "$s" = direct ] && return 0
    idle_rss "$r" "$wl" "$s" routed taskset -c $CPU_LOAD "$B/quicload" -m idle \
        -s c.bench.test -c "$NIDLE" -t $HOLD "$(quic_addr "$s")" "$(quic_port "$s" c)"
    stop_proc "$s"
    start_subject "$s" || note "$s|$wl: restart failed"
}

run_quic() {        # round workload subject
    case $3 in direct|switchyard) ;; *) return 0 ;; esac    # n/a: cannot route QUIC by SNI
    [ -n "${QSKIP[$3]:-}" ] && return 0
    case $2 in
    quic_hs) run_quic_hs "$@" ;;
    quic_bulk) run_quic_bulk "$@" ;;
    quic_dgram) run_quic_dgram "$@" ;;
    quic_mem) run_quic_mem "$@" ;;
    esac
}
