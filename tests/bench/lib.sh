# Sourced by the benchmark scripts (run.sh, l4/run.sh, l7/run.sh): reading a process's
# CPU time, memory and system calls, and stopping what a script started.

# cpu_ticks PID: user + system time in clock ticks (getconf CLK_TCK); 0 once it is gone,
# or for no PID. The fields are counted after the ") " that ends the command name, which
# may hold spaces.
cpu_ticks() {
    [ -n "$1" ] || { echo 0; return; }
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# sys_ticks PID: the system (kernel) part of cpu_ticks.
sys_ticks() {
    [ -n "$1" ] || { echo 0; return; }
    awk '{ sub(/^.*\) /, ""); print $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# rss_kib PID: resident set size in KiB; 0 once it is gone, or for no PID.
rss_kib() {
    [ -n "$1" ] || { echo 0; return; }
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# stop_proc NAME: stops the process the caller started and recorded in PID[NAME] (SIGTERM,
# SIGKILL after 5 s), waits for it and forgets it. Only PIDs the script started are in PID.
stop_proc() {
    local pid=${PID[$1]:-}
    [ -z "$pid" ] && return 0
    kill -TERM "$pid" 2>/dev/null
    reap "$pid" 50
    unset "PID[$1]"
}

# cpu_ns PID: user + system time of all the process's threads in nanoseconds, from the
# scheduler's own count (/proc/PID/task/*/schedstat), for runs too short for the clock
# ticks of cpu_ticks; ticks when the kernel has no schedstat. 0 once it is gone, or for no PID.
cpu_ns() {
    [ -n "$1" ] && [ -d "/proc/$1" ] || { echo 0; return; }
    if [ -e "/proc/$1/schedstat" ]; then
        cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f\n", t }'
    else
        awk -v t="$(cpu_ticks "$1")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f\n", t * 1e9 / hz }'
    fi
}

# reap PID TENTHS: waits up to TENTHS tenths of a second for PID to end, then kills it.
reap() {
    local i
    for i in $(seq "$2"); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# System calls of a running process, counted by the kernel's tracepoints (perf stat: no
# ptrace, so the process runs at nearly its own speed, unlike under strace -c). The calls
# a proxy makes are counted one by one (every syscall tracepoint at once takes perf
# seconds to open and close); the total counts all of them.
SYSCALLS_NAMED="read write readv writev recvfrom sendto recvmsg sendmsg recvmmsg sendmmsg
    accept accept4 connect socket close shutdown setsockopt getsockopt getsockname
    getpeername epoll_wait epoll_pwait epoll_ctl splice pipe2 fcntl ioctl timer_settime
    timerfd_settime getpid brk mmap munmap madvise futex rt_sigreturn openat clock_gettime
    gettimeofday sched_yield nanosleep clock_nanosleep getrusage mprotect newfstat newfstatat
    lseek poll ppoll select bpf"

# syscalls_known: keeps in SYSCALLS_NAMED the calls this kernel has a tracepoint for (perf
# refuses to count if one is unknown: epoll_wait, poll and select are not on arm64).
syscalls_known() {
    local d c kept=""
    for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
        [ -d "$d/events/syscalls" ] || continue
        for c in $SYSCALLS_NAMED; do
            [ -d "$d/events/syscalls/sys_enter_$c" ] && kept+=" $c"
        done
        SYSCALLS_NAMED=$kept
        return 0
    done
}

# syscalls_start PID CSV SECONDS: counts, for SECONDS, the system calls PID enters, into
# CSV, in the background ($! is perf's PID; it ends by itself). perf takes a moment to
# open its counters: the caller waits before it starts the load.
syscalls_start() {
    local c ev=(-e raw_syscalls:sys_enter)
    for c in $SYSCALLS_NAMED; do ev+=(-e "syscalls:sys_enter_$c"); done
    perf stat -x, -o "$2" "${ev[@]}" -p "$1" -- sleep "$3" </dev/null >/dev/null 2>&1 &
}

# syscalls_wait PERF_PID: waits for the count to end and be written (at most 30 s more).
syscalls_wait() {
    reap "$1" 300
}

# syscalls_per CSV N: "name calls-per-N" lines, "total" first, then each call that was
# made, most frequent first, "other" for those not named (perf's CSV: count,unit,event,...).
syscalls_per() {
    awk -F, -v n="$2" '$1 !~ /^[0-9]+$/ { next }
        $3 == "raw_syscalls:sys_enter" { total = $1; printf "total %.3f\n", $1 / n }
        $3 ~ /^syscalls:sys_enter_/ { named += $1 }
        END { if (total > named) printf "other %.3f\n", (total - named) / n }' "$1"
    awk -F, -v n="$2" '$3 ~ /^syscalls:sys_enter_/ && $1 ~ /^[0-9]+$/ && $1 > 0 {
        sub(/^syscalls:sys_enter_/, "", $3); printf "%s %.3f\n", $3, $1 / n }' "$1" |
        sort -k2,2 -g -r
}

# host_ticks [CPU]: the busy time of all the machine's CPUs (or of CPU number CPU) in clock
# ticks (/proc/stat: user, nice, system, irq, softirq): every process's work and the
# kernel's own (softirq, kernel threads), the neighbours' included.
host_ticks() {
    awk -v c="cpu${1:-}" '$1 == c { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}
