/* The monotonic clock in seconds, for the e2e tools' deadlines and timings. */
#ifndef TESTS_E2E_TOOLS_NOW_H
#define TESTS_E2E_TOOLS_NOW_H

#include <time.h>

static inline double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
