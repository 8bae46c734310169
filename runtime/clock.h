/* Time on the event loop's clock, and deadlines, for both engines.
 *
 * A deadline is an ev_tstamp; DEADLINE_NONE (infinity) when there is none, so that the
 * earliest of several is their minimum and "not yet" is a plain comparison. All of it is
 * inline: these run on every event. */
#ifndef RUNTIME_CLOCK_H
#define RUNTIME_CLOCK_H

#include <ev.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define DEADLINE_NONE ((ev_tstamp)INFINITY)

/* The loop's time in milliseconds (pool health counts in those). */
static inline uint64_t
clock_ms(struct ev_loop *loop)
{
    return (uint64_t)(ev_now(loop) * 1000.0);
}

static inline ev_tstamp
clock_secs(uint32_t ms)
{
    return ms / 1000.0;
}

/* ms after from; DEADLINE_NONE when ms is 0 (a timeout of 0 is none). */
static inline ev_tstamp
deadline_after(ev_tstamp from, uint32_t ms)
{
    return ms != 0 ? from + clock_secs(ms) : DEADLINE_NONE;
}

static inline ev_tstamp
deadline_min(ev_tstamp a, ev_tstamp b)
{
    return a < b ? a : b;
}

static inline bool
deadline_is_none(ev_tstamp d)
{
    return isinf(d);
}

/* Whole milliseconds from `from` to `to`, rounded; -1 when either is unset (0) or they
 * are out of order: the log lines' "-1" for a step that did not happen. */
static inline long
clock_ms_between(ev_tstamp from, ev_tstamp to)
{
    if (from <= 0 || to <= 0 || to < from)
        return -1;
    return (long)((to - from) * 1000.0 + 0.5);
}

#endif
