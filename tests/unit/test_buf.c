/* The buffer pool: buffers are reused, bounded in what the pool keeps, start empty at the
 * headroom; compacting keeps the headroom and the pending bytes, and so does a move to a
 * pool of larger buffers. The pipe pool: bounded in
 * pipes handed out and kept, reuses empty pipes, closes ones that still hold bytes;
 * filling and draining a pipe between two TCP connections moves the bytes in order and
 * says when to wait, at EOF, and when the kernel will not splice at all. */
#include "buf.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

static void
test_buf_get_put_reuses(void)
{
    struct buf_pool p;
    struct buf *a, *b;

    buf_pool_init(&p, BUF_CAP, 0, 4);
    a = buf_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->cap, BUF_CAP);
    CU_ASSERT_TRUE(buf_is_empty(a));
    CU_ASSERT_EQUAL(buf_room(a), BUF_CAP);
    CU_ASSERT_EQUAL(p.in_use, 1);
    a->end = 100;
    buf_put(a);
    CU_ASSERT_EQUAL(p.in_use, 0);
    CU_ASSERT_EQUAL(p.free_count, 1);
    b = buf_get(&p);
    CU_ASSERT_PTR_EQUAL(b, a);              /* the same memory comes back ... */
    CU_ASSERT_TRUE(buf_is_empty(b));        /* ... empty */
    buf_put(b);
    buf_put(NULL);                          /* accepted, does nothing */
    CU_ASSERT_EQUAL(p.in_use, 0);
    buf_pool_trim(&p);
    CU_ASSERT_EQUAL(p.free_count, 0);
    CU_ASSERT_PTR_NULL(p.free);
}

static void
test_buf_pool_keeps_at_most_free_max(void)
{
    struct buf_pool p;
    struct buf *b[10];

    buf_pool_init(&p, 64, 0, 3);
    for (int i = 0; i < 10; i++) {
        b[i] = buf_get(&p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b[i]);
    }
    CU_ASSERT_EQUAL(p.in_use, 10);
    for (int i = 0; i < 10; i++)
        buf_put(b[i]);
    CU_ASSERT_EQUAL(p.in_use, 0);
    CU_ASSERT_EQUAL(p.free_count, 3);
    buf_pool_trim(&p);
}

static void
test_buf_headroom(void)
{
    struct buf_pool p;
    struct buf *b;

    buf_pool_init(&p, 256, 32, 1);
    b = buf_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(b->start, 32);
    CU_ASSERT_EQUAL(b->end, 32);
    CU_ASSERT_EQUAL(buf_room(b), 224);
    CU_ASSERT_FALSE(buf_is_full(b));
    b->end = 256;                           /* 224 bytes: all that fits after the headroom */
    CU_ASSERT_TRUE(buf_is_full(b));
    b->start -= 8;                          /* a header prepended into the headroom */
    CU_ASSERT_EQUAL(buf_len(b), 232);
    buf_put(b);
    buf_pool_trim(&p);
}

static void
test_buf_compact(void)
{
    struct buf_pool p;
    struct buf *b;

    buf_pool_init(&p, 100, 10, 1);
    b = buf_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (int i = 0; i < 100; i++)
        b->data[i] = (uint8_t)i;
    b->start = 40;                          /* before half, room left: stays */
    b->end = 60;
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 40);
    b->start = 55;                          /* past half: moved back to the headroom */
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 10);
    CU_ASSERT_EQUAL(b->end, 15);
    CU_ASSERT_EQUAL(b->data[10], 55);
    CU_ASSERT_EQUAL(b->data[14], 59);
    b->start = 20;                          /* before half but no room at the end: moved */
    b->end = 100;
    b->data[20] = 0xaa;
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 10);
    CU_ASSERT_EQUAL(b->end, 90);
    CU_ASSERT_EQUAL(b->data[10], 0xaa);
    b->start = b->end = 10;                 /* empty at the headroom: nothing to do */
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 10);
    buf_put(b);
    buf_pool_trim(&p);
}

/* Whether fd is an open descriptor. */
static int
is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* A full small buffer moves to a larger pool: same bytes at the same offsets, the small one
 * back in its pool, room to read on. */
static void
test_buf_move(void)
{
    struct buf_pool small, large;
    struct buf *a, *b;

    buf_pool_init(&small, 64 + 16, 16, 4);
    buf_pool_init(&large, 256 + 16, 16, 4);
    a = buf_get(&small);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (int i = 0; i < 64; i++)
        a->data[a->end++] = (uint8_t)(i * 7);
    CU_ASSERT_TRUE(buf_is_full(a));
    b = buf_move(a, &large);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_EQUAL(b->pool, &large);
    CU_ASSERT_EQUAL(b->start, 16);
    CU_ASSERT_EQUAL(b->end, 16 + 64);
    for (int i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(b->data[16 + i], (uint8_t)(i * 7));
    CU_ASSERT_FALSE(buf_is_full(b));
    CU_ASSERT_EQUAL(buf_room(b), 256 - 64);
    CU_ASSERT_EQUAL(small.in_use, 0);
    CU_ASSERT_EQUAL(small.free_count, 1);
    CU_ASSERT_EQUAL(large.in_use, 1);
    buf_put(b);
    buf_pool_trim(&small);
    buf_pool_trim(&large);
}

static void
test_pipe_in_use_max(void)
{
    struct buf_pipe_pool p;
    struct buf_pipe *a, *b;

    buf_pipe_pool_init(&p, 0, 4, 1);
    a = buf_pipe_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->len, 0u);
    b = buf_pipe_get(&p);                   /* the pool is at in_use_max */
    CU_ASSERT_PTR_NULL(b);
    buf_pipe_put(a);
    b = buf_pipe_get(&p);                   /* a place is free again: the same pipe */
    CU_ASSERT_PTR_EQUAL(b, a);
    buf_pipe_put(b);
    buf_pipe_pool_trim(&p);
    CU_ASSERT_EQUAL(p.free_count, 0u);
}

/* The process's budget holds every pool together; a lowered budget closes pipes as they
 * come back. */
static void
test_pipe_budget_spans_pools(void)
{
    struct buf_pipe_pool p, q;
    struct buf_pipe *a, *b;
    uint32_t base = buf_pipes_open();

    buf_pipe_pool_init(&p, 0, 4, 4);
    buf_pipe_pool_init(&q, 0, 4, 4);
    buf_pipe_budget(base + 1);
    a = buf_pipe_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(buf_pipes_open(), base + 1);
    errno = 0;
    b = buf_pipe_get(&q);                   /* another pool: the budget is spent */
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_EQUAL(errno, ENOBUFS);
    buf_pipe_budget(base);                  /* lowered: a is closed when it comes back */
    buf_pipe_put(a);
    CU_ASSERT_EQUAL(p.free_count, 0u);
    CU_ASSERT_EQUAL(buf_pipes_open(), base);
    buf_pipe_budget(base + 2);
    a = buf_pipe_get(&p);
    b = buf_pipe_get(&q);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    buf_pipe_put(a);
    buf_pipe_put(b);
    buf_pipe_pool_trim(&p);
    buf_pipe_pool_trim(&q);
    CU_ASSERT_EQUAL(buf_pipes_open(), base);
    buf_pipe_budget(UINT32_MAX);
}

static void
test_pipe_with_bytes_is_closed(void)
{
    struct buf_pipe_pool p;
    struct buf_pipe *a;
    int rfd, wfd;

    buf_pipe_pool_init(&p, 0, 4, 4);
    a = buf_pipe_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    rfd = a->rfd;
    wfd = a->wfd;
    CU_ASSERT_EQUAL_FATAL(write(a->wfd, "xy", 2), 2);
    a->len = 2;
    buf_pipe_put(a);                        /* stale bytes must never reach another conn */
    CU_ASSERT_EQUAL(p.free_count, 0u);
    CU_ASSERT_EQUAL(p.in_use, 0u);
    CU_ASSERT_FALSE(is_open(rfd));
    CU_ASSERT_FALSE(is_open(wfd));
}

static void
test_pipe_pool_keeps_at_most_free_max(void)
{
    struct buf_pipe_pool p;
    struct buf_pipe *pipes[3];

    buf_pipe_pool_init(&p, 0, 2, 8);
    for (int i = 0; i < 3; i++) {
        pipes[i] = buf_pipe_get(&p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pipes[i]);
    }
    CU_ASSERT_EQUAL(p.in_use, 3u);
    for (int i = 0; i < 3; i++)
        buf_pipe_put(pipes[i]);
    CU_ASSERT_EQUAL(p.in_use, 0u);
    CU_ASSERT_EQUAL(p.free_count, 2u);      /* the third was closed */
    buf_pipe_pool_trim(&p);
    CU_ASSERT_EQUAL(p.free_count, 0u);
    CU_ASSERT_PTR_NULL(p.free);
}

/* A connected TCP pair on [::1] (or 127.0.0.1): *a writes, *b reads; non-blocking. */
static void
tcp_pair(int *a, int *b)
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof(sa);
    int l = socket(AF_INET6, SOCK_STREAM, 0);

    CU_ASSERT_FATAL(l >= 0);
    CU_ASSERT_FATAL(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 1) == 0);
    CU_ASSERT_FATAL(getsockname(l, (struct sockaddr *)&sa, &len) == 0);
    *a = socket(AF_INET6, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(connect(*a, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    *b = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CU_ASSERT_FATAL(*b >= 0);
    close(l);
}

static void
test_pipe_fill_and_drain(void)
{
    struct buf_pipe_pool p;
    struct buf_pipe *pp;
    int in_w, in_r, out_w, out_r;
    char got[8] = { 0 };
    size_t moved = 99;
    bool full = true;

    tcp_pair(&in_w, &in_r);
    tcp_pair(&out_w, &out_r);
    buf_pipe_pool_init(&p, 0, 4, 4);
    pp = buf_pipe_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
    /* Nothing to read yet: wait, and the empty pipe is not "full". */
    CU_ASSERT_EQUAL(buf_pipe_fill(pp, in_r, 4, &moved, &full), BUF_PIPE_WAIT);
    CU_ASSERT_EQUAL(moved, 0u);
    CU_ASSERT_FALSE(full);
    /* At most want bytes are taken; the rest stays in the socket. */
    CU_ASSERT_EQUAL_FATAL(write(in_w, "abcdef", 6), 6);
    usleep(20000);
    CU_ASSERT_EQUAL(buf_pipe_fill(pp, in_r, 4, &moved, &full), BUF_PIPE_MOVED);
    CU_ASSERT_EQUAL(moved, 4u);
    CU_ASSERT_EQUAL(pp->len, 4u);
    CU_ASSERT_EQUAL(buf_pipe_drain(pp, out_w, false), 4);
    CU_ASSERT_EQUAL(pp->len, 0u);
    CU_ASSERT_EQUAL(buf_pipe_fill(pp, in_r, 8, &moved, &full), BUF_PIPE_MOVED);
    CU_ASSERT_EQUAL(moved, 2u);
    CU_ASSERT_EQUAL(buf_pipe_drain(pp, out_w, false), 2);
    usleep(20000);
    CU_ASSERT_EQUAL(read(out_r, got, sizeof(got)), 6);
    CU_ASSERT_NSTRING_EQUAL(got, "abcdef", 6);
    /* The writer's FIN. */
    close(in_w);
    usleep(20000);
    CU_ASSERT_EQUAL(buf_pipe_fill(pp, in_r, 8, &moved, &full), BUF_PIPE_EOF);
    buf_pipe_put(pp);
    buf_pipe_pool_trim(&p);
    close(in_r);
    close(out_w);
    close(out_r);
}

static void
test_pipe_fill_refused(void)
{
    struct buf_pipe_pool p;
    struct buf_pipe *pp;
    uint64_t count = 0;
    size_t moved = 99;
    bool full = false;
    int fd = eventfd(1, EFD_NONBLOCK);

    /* A descriptor the kernel cannot splice from (EINVAL): nothing is taken, so the
     * caller can go on with a buffer. */
    CU_ASSERT_FATAL(fd >= 0);
    buf_pipe_pool_init(&p, 0, 4, 4);
    pp = buf_pipe_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
    CU_ASSERT_EQUAL(buf_pipe_fill(pp, fd, 8, &moved, &full), BUF_PIPE_REFUSED);
    CU_ASSERT_EQUAL(moved, 0u);
    CU_ASSERT_EQUAL(pp->len, 0u);
    CU_ASSERT_EQUAL(read(fd, &count, sizeof(count)), (ssize_t)sizeof(count));
    CU_ASSERT_EQUAL(count, 1u);             /* still there */
    buf_pipe_put(pp);
    buf_pipe_pool_trim(&p);
    close(fd);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "get and put reuse", test_buf_get_put_reuses },
        { "pool keeps at most free_max", test_buf_pool_keeps_at_most_free_max },
        { "headroom", test_buf_headroom },
        { "compact", test_buf_compact },
        { "move to a larger pool", test_buf_move },
        { "pipes: at most in_use_max handed out", test_pipe_in_use_max },
        { "pipes: one with bytes is closed, not kept", test_pipe_with_bytes_is_closed },
        { "pipes: one budget for every pool", test_pipe_budget_spans_pools },
        { "pipes: pool keeps at most free_max", test_pipe_pool_keeps_at_most_free_max },
        { "pipes: fill and drain between sockets", test_pipe_fill_and_drain },
        { "pipes: a descriptor that cannot be spliced", test_pipe_fill_refused },
    };

    return UNIT_RUN("buf", tests);
}
