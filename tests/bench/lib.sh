# Sourced by the benchmark scripts (run.sh, l4/run.sh, l7/run.sh): reading a process's
# CPU time and memory from /proc, and stopping what a script started.

# cpu_ticks PID: user + system time in clock ticks (getconf CLK_TCK); 0 once it is gone,
# or for no PID. The fields are counted after the ") " that ends the command name, which
# may hold spaces.
cpu_ticks() {
    [ -n "$1" ] || { echo 0; return; }
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# rss_kib PID: resident set size in KiB; 0 once it is gone, or for no PID.
rss_kib() {
    [ -n "$1" ] || { echo 0; return; }
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# stop_proc NAME: stops the process the caller started and recorded in PID[NAME] (SIGTERM,
# SIGKILL after 5 s), waits for it and forgets it. Only PIDs the script started are in PID.
stop_proc() {
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
