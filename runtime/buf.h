/* Linear byte buffers and pipes, and the per-process pools they come from.
 *
 * A buffer holds the bytes in flight in one direction of a connection: data[start .. end)
 * are waiting to be sent. A pipe does the same job for splice(2), without copying the
 * bytes through user space. Both are taken from a pool when bytes arrive and given back
 * once drained, so an idle connection holds neither. */
#ifndef RUNTIME_BUF_H
#define RUNTIME_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BUF_CAP (16 * 1024)         /* relay buffer: one TLS record */

struct buf_pool;

struct buf {
    struct buf_pool *pool;          /* where buf_put() returns it */
    struct buf *next;               /* free list link while in the pool */
    uint32_t start, end;            /* pending bytes: data[start .. end) */
    uint32_t cap;                   /* size of data[] */
    uint8_t data[];
};

struct buf_pool {
    struct buf *free;               /* buffers ready for reuse */
    uint32_t cap;                   /* data[] size of every buffer of this pool */
    uint32_t headroom;              /* buf_get() starts empty buffers at this offset */
    uint32_t free_count, free_max;  /* buffers beyond free_max go back to malloc */
    uint32_t in_use;                /* handed out and not yet returned */
};

/* Sets up an empty pool of buffers of cap bytes whose empty state starts at headroom
 * (room to prepend a header later). Keeps up to free_max returned buffers for reuse. */
void buf_pool_init(struct buf_pool *p, uint32_t cap, uint32_t headroom, uint32_t free_max);

/* Frees the buffers kept for reuse; buffers still in use stay valid. */
void buf_pool_trim(struct buf_pool *p);

/* Returns owned: an empty buffer (start == end == headroom), or NULL when out of memory. */
struct buf *buf_get(struct buf_pool *p);

/* Takes b (NULL is accepted) back into its pool. */
void buf_put(struct buf *b);

static inline size_t
buf_len(const struct buf *b)
{
    return b != NULL ? b->end - b->start : 0;
}

static inline bool
buf_is_empty(const struct buf *b)
{
    return buf_len(b) == 0;
}

/* Bytes that can be appended at end without compacting first. */
static inline size_t
buf_room(const struct buf *b)
{
    return b->cap - b->end;
}

/* No byte can be appended, even after compacting. */
static inline bool
buf_is_full(const struct buf *b)
{
    return b != NULL && buf_len(b) >= b->cap - b->pool->headroom;
}

/* Returns owned: a buffer from p holding b's pending bytes at the same offsets, b taken
 * back into its pool; or NULL when out of memory, b left as it was. p's buffers have b's
 * headroom and room for b->end bytes at least. */
struct buf *buf_move(struct buf *b, struct buf_pool *p);

/* Makes room at the end: moves the pending bytes back to the headroom once start has passed
 * half of the buffer (or when there is no room at all), so copies stay amortised. */
void buf_compact(struct buf *b);

/* ---- pipes ----
 *
 * Bulk bytes go socket -> pipe -> socket with splice(2): the kernel moves page references
 * instead of copying every byte into user space and back. A pipe is two descriptors, so
 * only connections with bytes in flight hold one, each module's pool hands out at most
 * PIPE_MAX_IN_USE at a time, and the pipes of all pools together, in use or kept, stay
 * within the process's budget (buf_pipe_budget()); beyond that, and when pipe2() fails,
 * buffers take over. */
#define PIPE_SIZE (256 * 1024)      /* bytes in flight per direction through a pipe */
#define PIPE_POOL_KEEP 64           /* idle pipes kept open for reuse (128 descriptors) */
#define PIPE_MAX_IN_USE 2048
#define PIPE_CONNS 4                /* the budget: one pipe per this many connections ... */
#define PIPE_BUDGET_MAX 4096        /* ... and at most this many pipes per process */

struct buf_pipe_pool;

struct buf_pipe {
    struct buf_pipe_pool *pool;     /* where buf_pipe_put() returns it */
    struct buf_pipe *next;          /* free list link while in the pool */
    int rfd, wfd;                   /* the two ends, non-blocking */
    uint32_t len;                   /* bytes in the pipe */
    uint32_t cap;                   /* its size in bytes (it may hold less: see conn.c) */
};

struct buf_pipe_pool {
    struct buf_pipe *free;          /* empty pipes ready for reuse */
    uint32_t cap;                   /* bytes a pipe is sized for (F_SETPIPE_SZ), 0: default */
    uint32_t free_count, free_max;  /* pipes beyond free_max are closed when returned */
    uint32_t in_use, in_use_max;    /* handed out; buf_pipe_get() refuses beyond in_use_max */
};

/* Sets up an empty pool of pipes sized for cap bytes (0: the kernel's default). Keeps up
 * to free_max returned pipes open for reuse; hands out at most in_use_max at a time, so
 * descriptors and pipe memory stay bounded. */
void buf_pipe_pool_init(struct buf_pipe_pool *p, uint32_t cap, uint32_t free_max,
                        uint32_t in_use_max);

/* Sets how many pipes all pools of the process may hold open together, in use or kept
 * for reuse (none made beyond it; the default is no limit). Lowering it closes the pipes
 * over it as they come back. */
void buf_pipe_budget(uint32_t max);

/* Pipes open now, all pools together. */
uint32_t buf_pipes_open(void);

/* Closes the pipes kept for reuse; pipes still in use stay valid. */
void buf_pipe_pool_trim(struct buf_pipe_pool *p);

/* Returns owned: an empty pipe, or NULL when the pool is at in_use_max, the process at its
 * budget (ENOBUFS) or pipe2() failed (errno says why; EMFILE, ENFILE: out of descriptors).
 * The caller then uses a buffer. */
struct buf_pipe *buf_pipe_get(struct buf_pipe_pool *p);

/* Takes pp (NULL is accepted) back into its pool; a pipe still holding bytes is closed,
 * its bytes dropped. */
void buf_pipe_put(struct buf_pipe *pp);

enum buf_pipe_result {
    BUF_PIPE_MOVED,                 /* bytes went into the pipe */
    BUF_PIPE_WAIT,                  /* nothing now: wait for the socket (or see *full) */
    BUF_PIPE_EOF,                   /* the peer's FIN */
    BUF_PIPE_FAILED,                /* a socket error; errno says which */
    BUF_PIPE_REFUSED,               /* this kernel cannot splice from this socket, and
                                     * nothing was taken from it: use a buffer instead */
};

/* Splices at most want bytes from socket fd into pp; *moved says how many. *full: read
 * again only once the pipe drains (it is at its size, or out of slots: a pipe counts
 * pages, not bytes, so it may refuse more before cap). */
enum buf_pipe_result buf_pipe_fill(struct buf_pipe *pp, int fd, size_t want, size_t *moved,
                                   bool *full);

/* Splices what pp holds into socket fd, with SPLICE_F_MORE when more follows at once.
 * Returns what splice(2) returned; pp->len counts what is left. */
ssize_t buf_pipe_drain(struct buf_pipe *pp, int fd, bool more);

#endif
