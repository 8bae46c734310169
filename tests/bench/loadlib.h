/* What the benchmark's load generators share (tlsload.c, l4/l4load.c, quicload.c): a
 * monotonic clock, the flag their SIGTERM and SIGINT handler sets so that a run ends
 * cleanly, and the descriptor limit raised to its hard limit (one descriptor per
 * connection or flow). */
#ifndef TESTS_BENCH_LOADLIB_H
#define TESTS_BENCH_LOADLIB_H

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

static volatile sig_atomic_t stop_flag;

static inline double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static inline void
raise_nofile(void)
{
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
    }
}

#endif
