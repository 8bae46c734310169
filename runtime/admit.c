#include "admit.h"

#include <string.h>
#include <sys/resource.h>

#include "buf.h"
#include "log.h"

#define FD_RESERVE 32               /* descriptors kept for stdio, the loop, logs, admin */

static uint32_t live;
static uint32_t maxconn;            /* the wanted one, lowered to what descriptors allow */
static uint32_t maxconn_want;       /* UINT32_MAX: none */
static size_t fds_held;             /* by the listening sockets */
static uint64_t pauses;             /* since the last successful accept */
static void (*pause_fn)(void);

void
admit_enter(void)
{
    live++;
}

void
admit_leave(void)
{
    live--;
}

uint32_t
admit_live(void)
{
    return live;
}

void
admit_start(uint32_t want, size_t held)
{
    maxconn_want = want;
    fds_held = held;
    admit_settle();
}

/* The pipes of the process: one per PIPE_CONNS connections, at most PIPE_BUDGET_MAX. */
static uint64_t
pipes_for(uint64_t conns)
{
    uint64_t p = (conns + PIPE_CONNS - 1) / PIPE_CONNS;

    return p < PIPE_BUDGET_MAX ? p : PIPE_BUDGET_MAX;
}

/* Descriptors for conns connections: a client and a server socket each, and the two ends
 * of each pipe. */
static uint64_t
fds_for(uint64_t conns)
{
    return 2 * conns + 2 * pipes_for(conns);
}

void
admit_settle(void)
{
    struct rlimit rl;
    uint32_t was = maxconn;
    uint64_t avail, lo = 1, hi;

    maxconn = maxconn_want;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY) {
        buf_pipe_budget((uint32_t)pipes_for(maxconn));
        return;
    }
    avail = rl.rlim_cur > FD_RESERVE + fds_held ? rl.rlim_cur - FD_RESERVE - fds_held : 0;
    if (fds_for(maxconn_want) > avail) {
        /* The most connections whose descriptors fit, at least 1. */
        for (hi = avail / 2 + 1; hi - lo > 1;) {
            uint64_t mid = lo + (hi - lo) / 2;

            if (fds_for(mid) <= avail)
                lo = mid;
            else
                hi = mid;
        }
        maxconn = (uint32_t)lo;
    }
    buf_pipe_budget((uint32_t)pipes_for(maxconn));
    if (maxconn < maxconn_want && (was == 0 || maxconn < was))
        log_msg(LOG_LEVEL_WARNING, "maxconn %u lowered to %u: descriptor limit %llu",
                maxconn_want, maxconn, (unsigned long long)rl.rlim_cur);
    else if (was != 0 && maxconn > was)
        log_msg(LOG_LEVEL_NOTICE, "maxconn raised to %u: descriptor limit %llu", maxconn,
                (unsigned long long)rl.rlim_cur);
}

uint32_t
admit_maxconn(void)
{
    return maxconn;
}

bool
admit_is_lowered(void)
{
    return maxconn < maxconn_want;
}

void
admit_on_pause(void (*fn)(void))
{
    pause_fn = fn;
}

void
admit_out_of_fds(const char *what, int err)
{
    /* One line per episode, not one per pause: the pauses repeat every 100 ms for as long
     * as the shortage lasts. */
    if (pauses++ == 0)
        log_msg(LOG_LEVEL_WARNING, "%s: %s: pausing listeners, %u connections open; "
                "retrying every %.0f ms", what, strerror(err), live, ADMIT_PAUSE_S * 1000);
    /* A limit lowered while running (prlimit) would otherwise be found again by every
     * connection past it. */
    admit_settle();
    if (pause_fn != NULL)
        pause_fn();
}

void
admit_fds_back(void)
{
    if (pauses > 0) {
        log_msg(LOG_LEVEL_NOTICE, "accepting again after %llu pauses",
                (unsigned long long)pauses);
        pauses = 0;
    }
}
