#include "buf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
buf_pool_init(struct buf_pool *p, uint32_t cap, uint32_t headroom, uint32_t free_max)
{
    *p = (struct buf_pool){ .cap = cap, .headroom = headroom, .free_max = free_max };
}

void
buf_pool_trim(struct buf_pool *p)
{
    while (p->free != NULL) {
        struct buf *b = p->free;

        p->free = b->next;
        free(b);
    }
    p->free_count = 0;
}

struct buf *
buf_get(struct buf_pool *p)
{
    struct buf *b = p->free;

    if (b != NULL) {
        p->free = b->next;
        p->free_count--;
    } else {
        b = malloc(sizeof(*b) + p->cap);
        if (b == NULL)
            return NULL;
        b->pool = p;
        b->cap = p->cap;
    }
    b->next = NULL;
    b->start = b->end = p->headroom;
    p->in_use++;
    return b;
}

void
buf_put(struct buf *b)
{
    struct buf_pool *p;

    if (b == NULL)
        return;
    p = b->pool;
    p->in_use--;
    if (p->free_count >= p->free_max) {
        free(b);
        return;
    }
    b->next = p->free;
    p->free = b;
    p->free_count++;
}

struct buf *
buf_move(struct buf *b, struct buf_pool *p)
{
    struct buf *to = buf_get(p);

    if (to == NULL)
        return NULL;
    assert(b->end <= to->cap && b->start >= p->headroom);
    memcpy(to->data + b->start, b->data + b->start, buf_len(b));
    to->start = b->start;
    to->end = b->end;
    buf_put(b);
    return to;
}

void
buf_compact(struct buf *b)
{
    uint32_t head = b->pool->headroom;
    size_t n = buf_len(b);

    if (b->start == head || (b->start < b->cap / 2 && b->end < b->cap))
        return;
    memmove(b->data + head, b->data + b->start, n);
    b->start = head;
    b->end = head + (uint32_t)n;
}

static uint32_t pipes_open;         /* every pool's pipes, in use or kept */
static uint32_t pipes_max = UINT32_MAX;

void
buf_pipe_budget(uint32_t max)
{
    pipes_max = max;
}

uint32_t
buf_pipes_open(void)
{
    return pipes_open;
}

void
buf_pipe_pool_init(struct buf_pipe_pool *p, uint32_t cap, uint32_t free_max, uint32_t in_use_max)
{
    *p = (struct buf_pipe_pool){ .cap = cap, .free_max = free_max, .in_use_max = in_use_max };
}

static void
pipe_close(struct buf_pipe *pp)
{
    close(pp->rfd);
    close(pp->wfd);
    free(pp);
    pipes_open--;
}

void
buf_pipe_pool_trim(struct buf_pipe_pool *p)
{
    while (p->free != NULL) {
        struct buf_pipe *pp = p->free;

        p->free = pp->next;
        pipe_close(pp);
    }
    p->free_count = 0;
}

struct buf_pipe *
buf_pipe_get(struct buf_pipe_pool *p)
{
    struct buf_pipe *pp = p->free;
    int fds[2];

    if (p->in_use >= p->in_use_max || (pp == NULL && pipes_open >= pipes_max)) {
        errno = ENOBUFS;
        return NULL;
    }
    if (pp != NULL) {
        p->free = pp->next;
        p->free_count--;
    } else {
        pp = malloc(sizeof(*pp));
        if (pp == NULL)
            return NULL;
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
            int e = errno;

            free(pp);
            errno = e;
            return NULL;
        }
        /* A failed resize (over the per-user pipe quota) leaves the default size, which
         * still works: the pipe just fills sooner. */
        int size = p->cap != 0 ? fcntl(fds[1], F_SETPIPE_SZ, (int)p->cap) : -1;

        if (size == -1)
            size = fcntl(fds[1], F_GETPIPE_SZ);
        *pp = (struct buf_pipe){ .pool = p, .rfd = fds[0], .wfd = fds[1],
                                 .cap = size > 0 ? (uint32_t)size : 4096 };
        pipes_open++;
    }
    pp->next = NULL;
    p->in_use++;
    return pp;
}

void
buf_pipe_put(struct buf_pipe *pp)
{
    struct buf_pipe_pool *p;

    if (pp == NULL)
        return;
    p = pp->pool;
    p->in_use--;
    if (pp->len != 0 || p->free_count >= p->free_max || pipes_open > pipes_max) {
        pipe_close(pp);
        return;
    }
    pp->next = p->free;
    p->free = pp;
    p->free_count++;
}

enum buf_pipe_result
buf_pipe_fill(struct buf_pipe *pp, int fd, size_t want, size_t *moved, bool *full)
{
    ssize_t n = splice(fd, NULL, pp->wfd, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

    *moved = 0;
    if (n > 0) {
        pp->len += (uint32_t)n;
        *moved = (size_t)n;
        *full = pp->len >= pp->cap;
        return BUF_PIPE_MOVED;
    }
    if (n == 0)
        return BUF_PIPE_EOF;
    if (errno == EINTR)
        return BUF_PIPE_WAIT;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        *full = pp->len > 0;        /* the socket is empty, or the pipe out of slots */
        return BUF_PIPE_WAIT;
    }
    if ((errno == EINVAL || errno == ENOSYS) && pp->len == 0)
        return BUF_PIPE_REFUSED;
    return BUF_PIPE_FAILED;
}

ssize_t
buf_pipe_drain(struct buf_pipe *pp, int fd, bool more)
{
    ssize_t n = splice(pp->rfd, NULL, fd, NULL, pp->len,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (more ? SPLICE_F_MORE : 0));

    if (n > 0)
        pp->len -= (uint32_t)n;
    return n;
}
