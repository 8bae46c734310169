#!/usr/bin/env bash
# Writes build/bench/report.md and build/bench/plots/*.png from the results of run.sh, and
# prints a short summary. Can be rerun alone:  tests/bench/report.sh [build/bench]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=${1:-$HERE/../../build/bench}
B=$(cd "$B" && pwd)
# shellcheck source=/dev/null
. "$B/params.env"
SUM=$B/summary.tsv
OUT=$B/report.md
P=$B/plots
mkdir -p "$P"
rm -f "$P"/*.png "$P"/*.dat "$P"/*.gp

awk -f "$HERE/summarize.awk" "$B/results.tsv" | sort >"$SUM"

med() {     # workload subject metric -> median or empty
    awk -F'\t' -v w="$1" -v s="$2" -v m="$3" \
        '$1 == "med" && $2 == w && $3 == s && $4 == m { print $5 }' "$SUM"
}
ratio() {   # workload subject ref[:metric] -> median ratio (of the main metric) or empty
    awk -F'\t' -v w="$1" -v s="$2" -v r="$3" \
        '$1 == "ratio" && $2 == w && $3 == s && $4 == r { print $5 }' "$SUM"
}
nrounds() {
    awk -F'\t' -v w="$1" -v s="$2" '$1 == "med" && $2 == w && $3 == s && $4 == "main" { print $6 }' "$SUM"
}
fmt() {     # number -> rounded for a table, "-" when missing
    [ -z "${1:-}" ] && { echo "-"; return; }
    awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v;
                           else printf "%.2f", v }'
}
xr() { [ -z "${1:-}" ] && echo "-" || awk -v v="$1" 'BEGIN { printf "×%.2f", v }'; }
# per_gib MICROSECONDS_PER_MIB -> seconds per GiB (a bulk run's "requests" are MiB)
per_gib() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { print v * 1024 / 1e6 }'; }

skip_reason() {     # subject [workload]
    local r
    r=$(grep -m 1 -E "^$1(\|${2:-none})?: " "$B/notes.txt" 2>/dev/null |
        sed 's/^[^:]*: //; s/^skipped: //')
    echo "${r:-not measured}"
}

# workload | title | unit of the main metric | columns: 1 latency and CPU per request,
# 2 CPU and system calls per MiB (bulk), 0 neither
WORKLOADS_INFO="http_ka|HTTP keep-alive (wrk, 64 connections, small response)|req/s|1
http_close|HTTP, new connection per request (wrk, 32 connections, Connection: close)|req/s|1
tls_conn|TLS, new connection per request through the SNI listener (full handshake each time, 32 concurrent)|conn/s|1
tls_ka|TLS keep-alive (64 connections, requests over one TLS session each)|req/s|1
http_ka_cap|HTTP keep-alive, each proxy limited to ${CAP_HTTP} % of one CPU (as http_ka)|req/s|1
http_close_cap|HTTP new connection per request, each proxy limited to ${CAP_HTTP} % of one CPU (as http_close)|req/s|1
tls_conn_cap|TLS new connection per request, each proxy limited to ${CAP_TLS} % of one CPU (as tls_conn)|conn/s|1
bulk_http|Bulk transfer through the HTTP listener (curl, ${BIG_MB} MiB file ×${BULK_GETS})|MiB/s|2
bulk_tls|Bulk transfer through the TLS listener (curl, ${BIG_MB} MiB file ×${BULK_GETS})|MiB/s|2
bulk_tls_cap|Bulk transfer through the TLS listener, each proxy limited to ${CAP_TLS} % of one CPU (as bulk_tls)|MiB/s|2
mem_http|Memory per idle routed HTTP connection (${NIDLE} connections, RSS delta / N)|bytes/conn|0
mem_tls|Memory per idle routed TLS connection (${NIDLE} connections, RSS delta / N)|bytes/conn|0"
# The QUIC workloads have tables of their own (quic_section); the same fields for the summary.
QUIC_INFO="quic_hs|QUIC handshake and a small GET|ms p50|0
quic_bulk|QUIC transfer|MiB/s|0
quic_dgram|QUIC datagrams relayed|dgram/s|0
quic_mem|QUIC memory per idle flow|bytes/flow|0"
QUIC_NA="n/a (cannot route QUIC by SNI)"

# ---------------------------------------------------------------- plots
plot() {    # gnuplot script on stdin
    gnuplot 2>>"$B/logs/gnuplot.log" || echo "report.sh: gnuplot failed (see $B/logs/gnuplot.log)" >&2
}


# bar_panel WORKLOAD YLABEL COLOUR FORMAT: the gnuplot lines of one bar chart of a
# multiplot, from $P/WORKLOAD.dat ("subject value" lines), values printed over the bars.
bar_panel() {
    local f=$P/$1.dat
    echo "set title '$1'; set ylabel '$2'"
    if [ -s "$f" ]; then
        echo "plot '$f' using 0:2:xtic(1) with boxes lc rgb '$3', \\"
        echo "     '$f' using 0:2:(sprintf('$4', \$2)) with labels offset 0,0.7"
    else
        echo "set label 1 'no data' at graph 0.5,0.5 center; plot [0:1] [0:1] NaN; unset label 1"
    fi
}

# bar_data WORKLOAD SUBJECT...: writes $P/WORKLOAD.dat, "subject median" for each subject
# measured; fails when none was.
bar_data() {
    local wl=$1 s m
    shift
    : >"$P/$wl.dat"
    for s in "$@"; do
        m=$(med "$wl" "$s" main)
        [ -n "$m" ] && echo "$s $m" >>"$P/$wl.dat"
    done
    [ -s "$P/$wl.dat" ]
}

# bar_multiplot SIZE PNG LAYOUT TITLE: the head of a multiplot of bar_panel charts.
bar_multiplot() {
    cat <<EOF
set terminal pngcairo noenhanced size $1 font ",10"
set output "$2"
set multiplot layout $3 title "$4"
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
unset key
EOF
}

for wl in http_ka http_close tls_conn tls_ka bulk_http bulk_tls http_ka_cap http_close_cap \
          tls_conn_cap; do
    bar_data "$wl" $SUBJECTS
done
{
    bar_multiplot 1500,1250 "$P/throughput.png" 3,3 \
        "Throughput, median of $REPS rounds (higher is better)"
    for w in http_ka:req/s http_close:req/s tls_conn:conn/s tls_ka:req/s bulk_http:MiB/s \
             bulk_tls:MiB/s http_ka_cap:req/s http_close_cap:req/s tls_conn_cap:conn/s; do
        bar_panel "${w%%:*}" "${w#*:}" '#4477aa' '%.0f'
    done
    echo "unset multiplot"
} >"$P/throughput.gp"
grep -q "with boxes" "$P/throughput.gp" && plot <"$P/throughput.gp"

: >"$P/memory.dat"
: >"$P/cpu.dat"
for s in $SUBJECTS; do
    [ "$s" = direct ] && continue
    h=$(med mem_http "$s" main) t=$(med mem_tls "$s" main)
    [ -n "$h$t" ] && echo "$s ${h:-?} ${t:-?}" >>"$P/memory.dat"
    a=$(med http_ka "$s" cpu_us) b=$(med http_close "$s" cpu_us)
    c=$(med tls_conn "$s" cpu_us) d=$(med tls_ka "$s" cpu_us)
    [ -n "$a$b$c$d" ] && echo "$s ${a:-?} ${b:-?} ${c:-?} ${d:-?}" >>"$P/cpu.dat"
done
# histogram WIDTH PNG TITLE YLABEL: the settings every clustered bar chart shares.
histogram() {
    cat <<EOF
set terminal pngcairo noenhanced size $1,500 font ",10"
set output "$2"
set title "$3"
set ylabel "$4"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set grid ytics
EOF
}
if [ -s "$P/memory.dat" ]; then
    { histogram 800 "$P/memory.png" \
        "Memory per idle routed connection ($NIDLE connections; lower is better)" \
        "bytes / connection (RSS delta / N)"
      cat <<EOF
plot "$P/memory.dat" using 2:xtic(1) title "http listener" lc rgb "#4477aa", \
     "" using 3 title "tls listener" lc rgb "#ee6677"
EOF
    } | plot
fi
if [ -s "$P/cpu.dat" ]; then
    { histogram 900 "$P/cpu.png" "Proxy CPU time per request (user + sys; lower is better)" \
        "µs / request"
      cat <<EOF
plot "$P/cpu.dat" using 2:xtic(1) title "http keep-alive" lc rgb "#4477aa", \
     "" using 3 title "http close" lc rgb "#66ccee", \
     "" using 4 title "tls new conn" lc rgb "#ee6677", \
     "" using 5 title "tls keep-alive" lc rgb "#ccbb44"
EOF
    } | plot
fi

QPLOT=""
for wl in quic_hs quic_bulk quic_dgram; do
    bar_data "$wl" $SUBJECTS && QPLOT+=" $wl"
done
if [ -n "$QPLOT" ]; then
    {
        bar_multiplot 1300,450 "$P/quic.png" 1,3 \
            "QUIC through switchyard's quic listener against direct, median of $REPS rounds"
        bar_panel quic_hs "ms per handshake + GET, p50 (lower is better)" '#228833' '%.1f'
        bar_panel quic_bulk "MiB/s (higher is better)" '#228833' '%.1f'
        bar_panel quic_dgram "datagrams/s (higher is better)" '#228833' '%.0f'
        echo "unset multiplot"
    } | plot
fi

SPLOT=""
for s in $SUBJECTS; do
    [ "$s" = direct ] && continue
    : >"$P/startup_$s.dat"
    for n in $SIZES; do
        t=$(med startup "$s" "ms_$n") r=$(med startup "$s" "rss_kib_$n")
        [ -n "$t" ] && echo "$n $t $r" >>"$P/startup_$s.dat"
    done
    [ -s "$P/startup_$s.dat" ] && SPLOT+="${SPLOT:+ }$s"
done
if [ -n "$SPLOT" ]; then
    plot <<EOF
set terminal pngcairo noenhanced size 1300,500 font ",10"
set output "$P/startup.png"
set multiplot layout 1,2 title "Start-up vs number of domains"
set logscale x
set logscale y
set grid
set key top left
set xlabel "domains"
set ylabel "ms to first routed TLS response"
set title "start-up time"
plot for [s in "$SPLOT"] "$P/startup_".s.".dat" using 1:2 with linespoints lw 2 title s
set ylabel "RSS MiB"
set title "RSS after start-up"
plot for [s in "$SPLOT"] "$P/startup_".s.".dat" using 1:(\$3/1024) with linespoints lw 2 title s
unset multiplot
EOF
fi

# ---------------------------------------------------------------- QUIC tables

# quic_table WORKLOAD CELLS HEADER...: the table of a QUIC workload, one row per subject:
# CELLS (a function, given the subject) prints a measured subject's cells after its name;
# HAProxy, nginx and sniproxy are not applicable; direct has no memory row.
quic_table() {
    local wl=$1 cells=$2 s empty=""
    shift 2
    printf '| subject |'; printf ' %s |' "$@"; echo
    printf '| --- |'; printf ' %.0s---: |' "$@"; echo
    for _ in $(seq $(($# - 1))); do empty+=" |"; done
    for s in $SUBJECTS; do
        case $s:$wl in
        haproxy:*|nginx:*|sniproxy:*) echo "| $s | $QUIC_NA |$empty" ;;
        switchyard-kernel:*) ;;     # the kernel relays TCP
        direct:quic_mem) ;;
        *) if [ -n "$(med "$wl" "$s" main)" ]; then
               echo "| $s | $($cells "$s") |"
           else
               echo "| $s | skipped: $(skip_reason "$s" "$wl") |$empty"
           fi ;;
        esac
    done
}
vs_direct() { [ "$2" = direct ] && echo "-" || xr "$(ratio "$1" "$2" direct)"; }
proxy_only() { [ "$1" = direct ] && echo "-" || fmt "$2"; }
hs_cells() {
    echo "$(fmt "$(med quic_hs "$1" main)") | $(fmt "$(med quic_hs "$1" p90_ms)") |" \
         "$(proxy_only "$1" "$(med quic_hs "$1" cpu_us)") | $(vs_direct quic_hs "$1") |" \
         "$(med quic_hs "$1" errors | awk '{ printf "%d", $1 }') | $(nrounds quic_hs "$1")"
}
bulk_cells() {
    echo "$(fmt "$(med quic_bulk "$1" main)") | $(vs_direct quic_bulk "$1") | $(nrounds quic_bulk "$1")"
}
dgram_cells() {
    echo "$(fmt "$(med quic_dgram "$1" main)") | $(proxy_only "$1" "$(med quic_dgram "$1" cpu_pct)") |" \
         "$(proxy_only "$1" "$(med quic_dgram "$1" per_core)") |" \
         "$(proxy_only "$1" "$(med quic_dgram "$1" cpu_us)") | $(vs_direct quic_dgram "$1") |" \
         "$(med quic_dgram "$1" lost | awk '{ printf "%d", $1 }') | $(nrounds quic_dgram "$1")"
}
mem_cells() {
    echo "$(fmt "$(med quic_mem "$1" main)") | $(med quic_mem "$1" conns | awk '{ printf "%d", $1 }') |" \
         "$(awk -v k="$(med quic_mem "$1" rss_kib)" 'BEGIN { printf "%.1f", k / 1024 }') |" \
         "$(nrounds quic_mem "$1")"
}

# quic_part WORKLOAD TITLE NOTE CELLS HEADER...: a QUIC workload's title, table (quic_table
# CELLS HEADER...) and note, when it was run.
quic_part() {
    local wl=$1 title=$2 text=$3
    shift 3
    grep -q "	$wl	" "$SUM" || grep -q "^[^|]*|$wl:" "$B/notes.txt" 2>/dev/null || return 0
    printf '\n#### %s\n\n' "$title"
    quic_table "$wl" "$@"
    printf '\n%s\n' "$text"
}

# The QUIC part of the report: switchyard's quic listener against direct.
quic_section() {
    grep -q '	quic_' "$SUM" || grep -q '^[^|]*|quic_' "$B/notes.txt" 2>/dev/null || return 0
    cat <<TXT

### QUIC: HTTP/3 passed through by the SNI of the client's Initial

switchyard's \`quic\` listener against \`direct\` (the client straight to the server), in
the same rounds. HAProxy, nginx and sniproxy cannot route QUIC by SNI (their rows say so).
Handshakes and transfers: ngtcp2's \`gtlsclient\` against its \`gtlsserver\`, one per site
on [::1]; datagrams and idle flows: \`tests/bench/quicload.c\` against a datagram echo.
Proxy CPU is user + system time from the scheduler's count (/proc/PID/task/*/schedstat).
TXT
    quic_part quic_hs \
        "Handshake and a small GET (${Q_HS} per round, each a new gtlsclient, exec to exit)" \
        "The time includes the client process's start and ngtcp2's own timers: the proxy's
share is the difference to \`direct\`. p50 and p90 are those of each round; the table
gives their median over the rounds." \
        hs_cells "p50 ms" "p90 ms" "proxy CPU µs/handshake" "vs direct" errors rounds
    quic_part quic_bulk "Transfer of a ${BIG_MB} MiB file over HTTP/3 (gtlsclient, ×${BULK_GETS})" \
        "Each download is a new gtlsclient; MiB/s is the bytes over the time of all of them." \
        bulk_cells MiB/s "vs direct" rounds
    quic_part quic_dgram \
        "Datagrams relayed (${QUIC_FLOWS} flows, 1200-byte datagrams, one in flight per flow, ${DUR} s)" \
        "Each datagram that came back from the echo crossed the proxy twice (client to server,
then server to client) and counts twice; lost ones do not count. \"Per core\" is the
datagrams relayed over the proxy's CPU time in the run; \"proxy CPU %\" is that time over
the run's length (near 100 %: the proxy was the limit)." \
        dgram_cells datagrams/s "proxy CPU %" "datagrams/s per core" "proxy CPU µs/datagram" \
        "vs direct" lost rounds
    quic_part quic_mem "Memory per idle flow (${NIDLE} flows, RSS delta / N)" \
        "Each flow was routed (its Initial came back through the proxy) and holds one UDP
socket in the proxy, whose kernel buffers are not in RSS." \
        mem_cells bytes/flow flows "RSS MiB" rounds
}
# ---------------------------------------------------------------- system calls
# The calls counted per request (sys_NAME metrics), most frequent first over the subjects.
syscall_names() {
    awk -F'\t' '$1 == "med" && $4 ~ /^sys_/ && $4 != "sys_total" && $4 != "sys_other" {
        sub(/^sys_/, "", $4); n[$4] += $5 } END { for (k in n) print n[k], k }' "$SUM" |
        sort -g -r | awk '{ print $2 }'
}

# The workloads and subjects of the table by call (each workload's total is in its own
# table): the uncapped loads, switchyard's two relays and HAProxy.
SC_BYCALL="http_ka http_close tls_conn tls_ka bulk_tls"
SC_BYCALL_SUBJECTS="switchyard switchyard-kernel haproxy"

# bycall_columns: "workload:subject" for each column of the table by call (counted).
bycall_columns() {
    local wl s
    for wl in $SC_BYCALL; do
        for s in $SC_BYCALL_SUBJECTS; do
            [ -n "$(med "$wl" "$s" sys_total)" ] && echo "$wl:$s"
        done
    done
}

# Per workload, each proxy's system calls per request (the "syscalls/req" column), then
# switchyard's (both relays) and HAProxy's by call, side by side.
syscall_table() {
    local col wl s c line head sep cols
    cols=$(bycall_columns)
    echo
    echo "### System calls per request, by call"
    echo
    echo "Counted in a separate ${SC_DUR} s run after each throughput run of the same load"
    echo "(at most $SC_MAX requests), with \`perf stat\` on the kernel's syscall tracepoints of"
    echo "the serving process (no ptrace: it runs at nearly full speed, unlike under"
    echo "\`strace -c\`); median of the rounds; bulk_tls per MiB. A call below 0.001 per"
    echo "request is not listed; \"(not named)\" is the total less the calls counted by name."
    echo "The first line is the system (kernel) part of the proxy CPU µs/req of the throughput"
    echo "runs. The other workloads' totals are in their own tables."
    head="| call |" sep="| --- |"
    for col in $cols; do
        head+=" ${col%%:*} ${col#*:} |" sep+=" ---: |"
    done
    echo
    echo "$head"
    echo "$sep"
    for c in cpu_sys total $(syscall_names) $(grep -q '	sys_other	' "$SUM" && echo other); do
        case $c in
        cpu_sys) line="| kernel CPU µs/req |" ;;
        total) line="| **all** |" ;;
        other) line="| (not named) |" ;;
        *) line="| $c |" ;;
        esac
        for col in $cols; do
            wl=${col%%:*} s=${col#*:}
            if [ "$c" = cpu_sys ]; then
                line+=" $(fmt "$(med "$wl" "$s" cpu_sys_us)") |"
            else
                line+=" $(fmt "$(med "$wl" "$s" "sys_$c")") |"
            fi
        done
        echo "$line"
    done
}
has_subject() { case " $SUBJECTS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---------------------------------------------------------------- the two relays
# label | workload | cell kind | metric: the rows of the side-by-side table (relay_cell).
RELAY_ROWS="TLS keep-alive: req/s|tls_ka|all|main
TLS keep-alive: p99 µs|tls_ka|all|p99_us
TLS keep-alive: proxy CPU µs/req|tls_ka|proxy|cpu_us
TLS keep-alive: proxy CPU vs HAProxy (goal ≤ ×0.30)|tls_ka|ratio|haproxy:cpu_us
TLS keep-alive: machine CPU µs/req (all cores)|tls_ka|all|host_us
TLS keep-alive: machine CPU vs HAProxy|tls_ka|ratio|haproxy:host_us
TLS keep-alive: proxy's core busy µs/req|tls_ka|all|core_us
TLS keep-alive: syscalls/req|tls_ka|proxy|sys_total
bulk TLS: MiB/s|bulk_tls|all|main
bulk TLS: proxy CPU s/GiB|bulk_tls|gib|cpu_us
bulk TLS: proxy CPU vs HAProxy (goal ≤ ×0.30)|bulk_tls|ratio|haproxy:cpu_us
bulk TLS: machine CPU s/GiB (all cores)|bulk_tls|hostgib|host_us
bulk TLS: machine CPU vs HAProxy|bulk_tls|ratio|haproxy:host_us
bulk TLS: proxy's core busy s/GiB|bulk_tls|hostgib|core_us
bulk TLS: syscalls/MiB|bulk_tls|proxy|sys_total
bulk TLS, proxy held to ${CAP_TLS} % of a CPU: MiB/s|bulk_tls_cap|all|main
bulk TLS held: quota used %|bulk_tls_cap|all|quota_pct
new TLS conn/s, proxy held to ${CAP_TLS} % of a CPU|tls_conn_cap|all|main
new TLS conn/s held: vs HAProxy|tls_conn_cap|ratio|haproxy
new TLS conn held: p99 µs|tls_conn_cap|all|p99_us
new TLS conn held: quota used %|tls_conn_cap|all|quota_pct
new TLS conn held: proxy CPU µs/conn|tls_conn_cap|proxy|cpu_us
new TLS conn held: machine CPU µs/conn (all cores)|tls_conn_cap|all|host_us
new TLS conn held: proxy's core busy µs/conn|tls_conn_cap|all|core_us
new TLS conn held: syscalls/conn|tls_conn_cap|proxy|sys_total
new TLS conn/s, no limit|tls_conn|all|main
new TLS conn: p99 µs|tls_conn|all|p99_us
new TLS conn: proxy CPU µs/conn|tls_conn|proxy|cpu_us
new TLS conn: syscalls/conn|tls_conn|proxy|sys_total"

relay_cell() {      # subject workload kind metric
    case $3 in
    all) fmt "$(med "$2" "$1" "$4")" ;;
    proxy) proxy_only "$1" "$(med "$2" "$1" "$4")" ;;
    gib) proxy_only "$1" "$(per_gib "$(med "$2" "$1" "$4")")" ;;
    hostgib) fmt "$(per_gib "$(med "$2" "$1" "$4")")" ;;
    ratio) xr "$(ratio "$2" "$1" "$4")" ;;
    esac
}

# The kernel relay (switchyard-kernel) and the user-space one (switchyard) side by side
# with HAProxy and direct, one row per figure they are judged by.
relay_section() {
    has_subject switchyard-kernel || return 0
    local cols="" s label wl kind metric line
    for s in direct switchyard switchyard-kernel haproxy; do has_subject $s && cols+=" $s"; done
    echo
    echo "### TLS passthrough: the user-space and the kernel relay side by side"
    echo
    printf '| figure (median of the rounds) |'; printf ' %s |' $cols; echo
    printf '| --- |'; printf ' %.0s---: |' $cols; echo
    while IFS='|' read -r label wl kind metric; do
        grep -q "	$wl	" "$SUM" || continue
        line="| $label |"
        for s in $cols; do line+=" $(relay_cell "$s" "$wl" "$kind" "$metric") |"; done
        echo "$line"
    done <<<"$RELAY_ROWS"
    for s in $cols; do
        [ "$s" = direct ] || grep -q "	tls_ka	$s	\|	bulk_tls	$s	\|	tls_conn	$s	" "$SUM" ||
            { echo; echo "$s: skipped: $(skip_reason "$s")"; }
    done
    cat <<'TXT'

switchyard is the user-space relay (splice(2) between the sockets), switchyard-kernel the
same binary started with `SWITCHYARD_RELAY=kernel`: once a connection's server is
connected, a BPF sk_skb verdict program moves what each side sends to the other's
socket; a side's bytes go through the proxy while its peer is further behind than its
share of the kernel's queue (backpressure; 16 MiB alone). The kernel's work runs in
softirq context, in the sending process (with loopback, the backend's) or on a kernel
worker thread: it is not in the proxy's CPU time and is not charged to its CPU cgroup.
"proxy CPU" is the proxy process alone: accepts, connects, routing, hand-overs, reports,
FINs. "machine CPU" is the busy time of all cores
(/proc/stat) over the run divided by the requests: the client, the backend and the
kernel's relaying included, and the neighbours' programs too on a shared machine; it
compares the whole cost of each path (`direct` being the one without a hop). "proxy's
core busy" is the same for the proxy's core alone. Held to a CPU share, each proxy is
limited in its own work only: for the kernel relay that is the routing and hand-over of
each new connection (`tls_conn_cap`), not the relaying (`bulk_tls_cap`: its rate does not
depend on the share, and it uses next to none of it).
TXT
}

# ---------------------------------------------------------------- report.md
{
    echo "# switchyard benchmark report"
    echo
    echo "Variant: $([ "$QUICK" = 1 ] && echo "quick (\`--quick\`: indicative only)" || echo full)," \
         "$REPS rounds, ${DUR} s per throughput run, generated $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "## Machine"
    echo
    echo '```'
    echo "cpu:     $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores"
    echo "memory:  $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "kernel:  $(uname -sr)"
    echo "os:      $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "pinning: load generator and backends on CPU $CPU_LOAD, proxy under test on CPU $CPU_PROXY"
    echo "fds:     RLIMIT_NOFILE $FD_LIMIT (proxies' maxconn $PROXY_MAXCONN)"
    echo "load:    1-min load average $LOAD_BEFORE before the run, $(cut -d' ' -f1 /proc/loadavg) after (neighbours share the cores)"
    echo '```'
    echo
    echo "## Versions"
    echo
    echo '```'
    cat "$B/versions.txt"
    echo '```'
    echo
    echo "## Method"
    echo
    cat <<EOF
- Subjects run one at a time, interleaved within each round (A B C, A B C, ...); each
  figure is the median over the rounds. "vs HAProxy" and "vs direct" are the medians of the
  per-round ratios (subject / reference measured in the same round); for throughput higher
  is better, for memory and CPU lower is better.
- \`direct\` is the client talking straight to the backend on [::1]: the ceiling.
- Every proxy runs one worker/thread pinned to CPU $CPU_PROXY, listens on 127.0.0.1 and
  forwards to the nginx backends on [::1] (pinned to CPU $CPU_LOAD together with the load
  generator, so the backends and the client share one core: a proxy that is faster than
  that core shows the same figure as \`direct\`).
- Each proxy logs one line per request (layer 7) or connection (layer 4) to a file, as
  \`log stderr\` does for switchyard.
- Proxy CPU = user + system time of the serving process (the scheduler's count in ns,
  /proc/PID/task/*/schedstat) over the run, divided by the requests completed (nginx: its
  worker process); bulk transfers: per MiB moved, given as s/GiB. Machine CPU = the busy
  time of all cores (/proc/stat) over the run, divided the same way: every process's work
  and the kernel's own (softirq, kernel threads), neighbours' included.
- \`switchyard-kernel\` is switchyard with the kernel relay (\`SWITCHYARD_RELAY=kernel\`),
  measured on the TLS listener's workloads; it takes the ports from \`switchyard\` (and back)
  before each of its runs. Its rows say "skipped" with the proxy's own words when the
  kernel relay could not be loaded.
- Every load run is bounded by a request count ($MAXREQ) and by time.
- The \`*_cap\` workloads repeat a load with the proxy's serving process in a CPU cgroup
  limited to a share of one CPU (${CAP_HTTP} % for HTTP, ${CAP_TLS} % for TLS: a CFS quota, as a
  container CPU limit sets; the TLS share is smaller because the client's full handshakes
  cost more than the proxy's relaying). The client's
  core is then no longer the bottleneck and the rate shows how much each proxy serves on the
  same CPU budget. "quota used" is the process's CPU time over the run divided by the
  quota: near 100 % means the proxy was the bottleneck as intended; well below means the
  load generator's core still was.
EOF
    echo
    echo "## Results"
    relay_section
    while IFS='|' read -r wl title unit lat; do
        grep -q "	$wl	" "$SUM" || grep -q "^[^|]*|$wl:" "$B/notes.txt" || continue
        echo
        echo "### $title"
        echo
        case $lat in
        1) head="p50 µs | p99 µs | proxy CPU µs/req | syscalls/req | vs HAProxy | vs direct | errors" ;;
        2) head="proxy CPU s/GiB | syscalls/MiB | vs HAProxy | vs direct" ;;
        *) head="vs HAProxy | vs direct" ;;
        esac
        echo "| subject | $unit | $head | rounds |"
        echo "| --- | ---: |$(sed 's/[^|]*|/ ---: |/g' <<<"$head | rounds |")"
        for s in $SUBJECTS; do
            m=$(med "$wl" "$s" main)
            if [ -z "$m" ]; then
                case $s:$wl in
                sniproxy:http_*|sniproxy:bulk_http|sniproxy:mem_http) continue ;;
                switchyard-kernel:http_*|switchyard-kernel:bulk_http|switchyard-kernel:mem_http) continue ;;
                direct:mem_*|direct:*_cap) continue ;;
                esac
                echo "| $s | skipped: $(skip_reason "$s" "$wl") |$(sed 's/[^|]*|/ |/g' <<<"$head | rounds |")"
                continue
            fi
            if [ "$lat" = 2 ]; then
                echo "| $s | $(fmt "$m") | $(proxy_only "$s" "$(per_gib "$(med "$wl" "$s" cpu_us)")") |" \
                     "$(fmt "$(med "$wl" "$s" sys_total)") |" \
                     "$(xr "$(ratio "$wl" "$s" haproxy)") | $(xr "$(ratio "$wl" "$s" direct)") |" \
                     "$(nrounds "$wl" "$s") |"
            elif [ "$lat" = 1 ]; then
                echo "| $s | $(fmt "$m") | $(fmt "$(med "$wl" "$s" p50_us)") | $(fmt "$(med "$wl" "$s" p99_us)") |" \
                     "$([ $s = direct ] && echo "-" || fmt "$(med "$wl" "$s" cpu_us)") |" \
                     "$(fmt "$(med "$wl" "$s" sys_total)") |" \
                     "$(xr "$(ratio "$wl" "$s" haproxy)") | $(xr "$(ratio "$wl" "$s" direct)") |" \
                     "$(med "$wl" "$s" errors | awk '{ printf "%d", $1 }') | $(nrounds "$wl" "$s") |"
            else
                echo "| $s | $(fmt "$m") | $(xr "$(ratio "$wl" "$s" haproxy)") |" \
                     "$(xr "$(ratio "$wl" "$s" direct)") | $(nrounds "$wl" "$s") |"
            fi
        done
        case $wl in
        *_cap)
            line=""
            for s in $SUBJECTS; do
                q=$(med "$wl" "$s" quota_pct)
                [ -n "$q" ] && [ -n "$(med "$wl" "$s" main)" ] && line+="${line:+, }$s $(fmt "$q") %"
            done
            [ -n "$line" ] && { echo; echo "Quota used (median): $line."; } ;;
        esac
    done <<<"$WORKLOADS_INFO"
    quic_section

    if grep -q '	sys_total	' "$SUM"; then
        syscall_table
    fi

    if grep -q '	startup	' "$SUM"; then
        echo
        echo "### Start-up time and RSS vs number of domains"
        echo
        echo "Time from exec to the first routed TLS response through the new process (the"
        echo "last domain of the list), then its RSS; median of $START_REPS run(s). HAProxy:"
        echo "\`map()\` file; nginx: stream \`map\` with \`hostnames\`; sniproxy: table of anchored"
        echo "regular expressions; switchyard: compiled table (\`domains tls \"list.txt\"\`)."
        echo
        echo "switchyard's table is \`const\` data in the binary: RSS counts only the pages that"
        echo "start-up and the lookups touched; the binary size is given beside it."
        echo
        echo "| subject | domains | start-up ms | RSS MiB | yardc+cc build s | binary MiB |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: |"
        for s in $SUBJECTS; do
            [ "$s" = direct ] && continue
            for n in $SIZES; do
                t=$(med startup "$s" "ms_$n")
                r=$(med startup "$s" "rss_kib_$n")
                bt=$(med startup "$s" "build_ms_$n")
                bk=$(med startup "$s" "bin_kib_$n")
                if [ -z "$t" ]; then
                    why=$(grep -m 1 -E "^$s\|startup: N=$n " "$B/notes.txt" | sed 's/^[^:]*: N=[0-9]* //')
                    [ -z "$why" ] && why=$(grep -m 1 -E "^$s: " "$B/notes.txt" | sed 's/^[^:]*: //')
                    echo "| $s | $n | ${why:-not measured} | | | |"
                else
                    echo "| $s | $n | $(fmt "$t") | $(awk -v k="$r" 'BEGIN { printf "%.1f", k / 1024 }') |" \
                         "$([ -n "$bt" ] && awk -v m="$bt" 'BEGIN { printf "%.1f", m / 1000 }' || echo -) |" \
                         "$([ -n "$bk" ] && awk -v k="$bk" 'BEGIN { printf "%.1f", k / 1024 }' || echo -) |"
                fi
            done
        done
    fi

    echo
    echo "### Route lookup ns and yardc+cc build time vs N"
    echo
    if [ -s "$B/table.out" ]; then
        echo "From \`tests/bench/table/run.sh\`:"
        echo
        echo '```'
        tail -n 60 "$B/table.out"
        echo '```'
    else
        echo "$(grep -m 1 '^table' "$B/notes.txt" 2>/dev/null || echo "table: not run")"
    fi

    echo
    echo "### Build of a big site, .yard to binary"
    echo
    if [ -s "$B/build.out" ]; then
        echo "From \`tests/bench/table/build.sh\` (wall s and peak RSS MB per step: yardc, cc -c"
        echo "table.c, the link; CPU s of all three):"
        echo
        echo '```'
        cat "$B/build.out"
        echo '```'
    else
        echo "$(grep -m 1 '^build' "$B/notes.txt" 2>/dev/null || echo "build: not run")"
    fi

    echo
    echo "## Skipped and notes"
    echo
    if [ -s "$B/notes.txt" ]; then sed 's/^/- /' "$B/notes.txt"; else echo "None."; fi
    echo
    echo "## Plots"
    echo
    for f in throughput memory cpu startup quic; do
        [ -f "$P/$f.png" ] && echo "![$f](plots/$f.png)"
    done
    echo
    echo "## Exact commands (first round)"
    echo
    echo '```'
    cat "$B/commands.txt"
    echo '```'
    echo
    echo "Configurations: \`build/bench/conf/\` (and \`build/bench/startup/\`); raw results:"
    echo "\`build/bench/results.tsv\` (round, workload, subject, metric, value)."
} >"$OUT"

# ---------------------------------------------------------------- stdout summary
echo
echo "== summary ($([ "$QUICK" = 1 ] && echo quick || echo full), $REPS rounds; medians; ×N ha = ratio to haproxy, ×N d = ratio to direct, same round; µs = proxy CPU per request; sc = its system calls per request)"
while IFS='|' read -r wl title unit lat; do
    line=""
    for s in $SUBJECTS; do
        m=$(med "$wl" "$s" main)
        [ -z "$m" ] && continue
        line+=$(printf '  %s %s' "$s" "$(fmt "$m")")
        [ "$s" != haproxy ] && [ -n "$(ratio "$wl" "$s" haproxy)" ] && line+=" $(xr "$(ratio "$wl" "$s" haproxy)")ha"
        [ "$s" != direct ] && [ "$s" != haproxy ] && [ -n "$(ratio "$wl" "$s" direct)" ] && line+=" $(xr "$(ratio "$wl" "$s" direct)")d"
        [ "$s" = haproxy ] && [ -n "$(ratio "$wl" "$s" direct)" ] && line+=" $(xr "$(ratio "$wl" "$s" direct)")d"
        c=$(med "$wl" "$s" cpu_us)
        [ -n "$c" ] && [ "$s" != direct ] && line+=" $(fmt "$c")µs"
        c=$(med "$wl" "$s" sys_total)
        [ -n "$c" ] && line+=" $(fmt "$c")sc"
        line+=";"
    done
    [ -n "$line" ] && printf '%-10s %-10s%s\n' "$wl" "$unit" "$line"
done <<<"$WORKLOADS_INFO
$QUIC_INFO"
for s in $SUBJECTS; do
    [ "$s" = direct ] && continue
    line=""
    for n in $SIZES; do
        t=$(med startup "$s" "ms_$n") r=$(med startup "$s" "rss_kib_$n")
        [ -n "$t" ] && line+=$(printf '  N=%s %s ms %s MiB;' "$n" "$(fmt "$t")" \
            "$(awk -v k="$r" 'BEGIN { printf "%.1f", k / 1024 }')")
    done
    [ -n "$line" ] && printf '%-10s %-10s%s\n' startup "$s" "$line"
done
if [ -s "$B/notes.txt" ]; then
    echo "notes:"
    sed 's/^/  /' "$B/notes.txt"
fi
echo "report: $OUT"
