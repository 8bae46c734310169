# Sourced by the benchmark scripts (run.sh, l4/run.sh, l7/run.sh): reading a process's
# CPU time and memory from /proc.

# cpu_ticks PID: user + system time in clock ticks (getconf CLK_TCK); 0 once it is gone.
# The fields are counted after the ") " that ends the command name, which may hold spaces.
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# rss_kib PID: resident set size in KiB; 0 once it is gone.
rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
