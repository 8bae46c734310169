#include "conn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "alog.h"
#include "buf.h"
#include "clock.h"
#include "krelay.h"
#include "log.h"
#include "proxyin.h"
#include "sni.h"
#include "stats.h"
#include "upstream.h"

/* The whole ClientHello and its record headers must fit an inspect buffer, with room in
 * front for a PROXY header written once the server is known. Hellos of up to 16 KiB (all
 * but a few) fit a small one; one that does not moves to a large one, which holds
 * SNI_HELLO_MAX in records of more than 80 bytes. */
#define INSPECT_CAP (20 * 1024)
#define INSPECT_LARGE_CAP (SNI_HELLO_MAX + 4 + 4 * 1024)
#define INSPECT_HEADROOM 128
#define RELAY_POOL_KEEP 256         /* idle relay buffers kept for reuse (4 MiB) */
#define INSPECT_POOL_KEEP 16
#define INSPECT_LARGE_POOL_KEEP 2
/* Relayed bytes go socket -> pipe -> socket with splice(2) (see PIPE_SIZE in buf.h). */
/* Bytes one readiness event may move in one direction before the loop serves others. */
#define RELAY_BURST (1024 * 1024)

enum conn_state { CONN_INSPECT = 0, CONN_CONNECT, CONN_RELAY, CONN_DRAIN, CONN_CLOSED };

enum { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

enum {
    SIDE_EOF = 1u << 0,             /* the peer sent its FIN: nothing more to read */
    SIDE_SHUT = 1u << 1,            /* we sent ours: shutdown(SHUT_WR) done */
    SIDE_PIPE_FULL = 1u << 2,       /* the pipe took no more: read again once it drains */
    SIDE_BULK = 1u << 3,            /* a read filled a relay buffer: splice from now on */
    SIDE_LOWAT = 1u << 4,           /* TCP_NOTSENT_LOWAT is set on the socket */
    SIDE_SHUT_WATCH = 1u << 5,      /* kernel relay: no longer watched for its FIN */
};

/* Bytes read from a side wait for the other side in its buffer or in its pipe, never in
 * both: a direction switches only once empty, so the order of bytes is kept. The ClientHello
 * (and a PROXY header) always go through the buffer, and so do small exchanges such as
 * the rest of a TLS handshake: a direction moves to a pipe only once a read has filled a
 * whole relay buffer, where splicing pays for itself. */
struct side {
    struct ev_io io;                /* fd -1 when there is no socket */
    struct buf *in;                 /* read from this side, to be sent to the other */
    struct buf_pipe *pipe;          /* or spliced from this side, to be sent to the other */
    uint64_t bytes;                 /* read from this side */
    ev_tstamp last;                 /* last read from or write to this side */
    uint8_t flags;                  /* SIDE_* */
};

struct conn {
    struct side side[2];            /* SIDE_CLIENT, SIDE_SERVER */
    struct ev_timer timer;          /* deadline of the state: inspect, connect, idle */
    struct conn *prev, *next;       /* open connections, for the end of the grace period */
    char *sni;                      /* owned, for the log line; NULL when none */
    ev_tstamp t_accept;             /* the accept, or the connect before a deferred one */
    ev_tstamp t_routed, t_connected;
    union {
        struct sni_scan scan;       /* inspecting: how far the ClientHello's records go */
        ev_tstamp t_attempt;        /* from connecting on: when the current connect began */
    };
    uint64_t id;
    union yt_addr peer;             /* the client: accept()'s, or a PROXY header's */
    uint32_t listener;              /* index in the table (conn_listener()) */
    union yt_addr *local;           /* the address it reached, from a PROXY header (owned);
                                     * NULL: the client socket's own */
    uint32_t site, pool;            /* YT_NONE until known */
    struct ups_try up;              /* server (YT_NONE until known), tries; err_no: errno
                                     * behind err, or 0 */
    struct kconn *k;                /* in the kernel relay, or NULL */
    struct tunnel *tunnel;          /* handed over by an owner (conn_tunnel()), or NULL */
    uint8_t state;                  /* enum conn_state */
    bool proxy_pending;             /* accept-proxy: the first bytes are not looked at yet */
    char term[2];                   /* termination code, see docs/runtime.md */
    uint16_t proxy_len;             /* the PROXY header sent to the server, bytes */
    bool user_only;                 /* the kernel relay refused it: relayed here */
    const char *err;                /* why it ended abnormally (static), or NULL */
};

/* What a listener mode does with the client's first bytes: wait (stay in CONN_INSPECT),
 * answer and close (CONN_CLOSED), or choose c->pool and move to CONN_CONNECT. A mode
 * without a handler here is served elsewhere (http and redirect: runtime/http.c) and
 * never reaches conn_accept(). */
typedef void inspect_fn(struct ev_loop *loop, struct conn *c);

static inspect_fn inspect_tls;

static inspect_fn *const inspect_by_mode[YT_MODE_COUNT] = {
    [YT_MODE_TLS] = inspect_tls,
};

/* A connection another engine handed over once routed (conn_tunnel()): that owner logs
 * and counts it, and hears of its end. */
struct tunnel {
    conn_tunnel_done *done;
    void *arg;
};

/* A connection in the kernel relay: its two directions, by the side that sends, and the
 * timer that waits for the kernel's queues: once a FIN is in, before it is passed on; and
 * when a direction's bytes come to the relay here, before it writes them on.
 *
 * Backpressure: the kernel redirects only as far as user space allows, a share of
 * KRELAY_BUDGET beyond what the receiver took (kqueue_share()); beyond, it keeps the
 * sender's bytes in the sender's socket (whose window closes when its buffer is full),
 * and the relay here reads them, bounded by its buffers as for any connection, until it
 * has caught up. */
struct kconn {
    struct kdir {
        struct krelay_pair pair;
        uint64_t sent;              /* what the receiver got before the hand-over */
        uint64_t counted;           /* of the kernel's count, what the sender's count has */
        uint64_t uread, uwrote;     /* read from the sender, written to the receiver here */
        bool on;                    /* the kernel relays this direction */
        bool user;                  /* the sender's bytes are relayed here */
        bool clear;                 /* ... and may be written to the receiver */
        bool lag;                   /* ... but are not in the socket yet: read later */
    } d[2];                         /* by sending side: d[SIDE_SERVER] goes to the client */
    struct ev_timer drain;
    ev_tstamp every;                /* the drain timer's period: grows while it waits */
    uint32_t slot, gen;             /* its place in kslots, the reports' key */
};

static const struct yt_table *table;

/* Whether the kernel relay reads side i now (unless its bytes are relayed here and are
 * in its socket). */
static bool
side_kernel_reads(const struct conn *c, int i)
{
    return c->k != NULL && c->k->d[i].on && (!c->k->d[i].user || c->k->d[i].lag);
}

/* Whether the kernel relay writes to side i now, or may still (until the kernel has
 * delivered all it took while the other side's bytes are relayed here). */
static bool
side_kernel_writes(const struct conn *c, int i)
{
    return c->k != NULL && c->k->d[!i].on && !c->k->d[!i].clear;
}

static bool kdir_lagging(struct ev_loop *loop, struct conn *c, int i);

/* The listener c came in on (an index rather than a pointer: 8 bytes less per connection). */
static inline const struct yt_listener *
conn_listener(const struct conn *c)
{
    return &table->listeners[c->listener];
}
static struct buf_pool relay_pool, inspect_pool, inspect_large_pool;
static struct buf_pipe_pool pipe_pool;
static bool splice_off;             /* splice(2) refused by this kernel: buffers only */
static struct upstream ups;
static struct conn *conns;

static void conn_io_cb(struct ev_loop *loop, struct ev_io *w, int revents);
static void conn_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents);

int
conn_init(const struct yt_table *t)
{
    table = t;
    buf_pool_init(&relay_pool, BUF_CAP, 0, RELAY_POOL_KEEP);
    buf_pool_init(&inspect_pool, INSPECT_CAP + INSPECT_HEADROOM, INSPECT_HEADROOM,
                  INSPECT_POOL_KEEP);
    buf_pool_init(&inspect_large_pool, INSPECT_LARGE_CAP + INSPECT_HEADROOM, INSPECT_HEADROOM,
                  INSPECT_LARGE_POOL_KEEP);
    buf_pipe_pool_init(&pipe_pool, PIPE_SIZE, PIPE_POOL_KEEP, PIPE_MAX_IN_USE);
    return ups_init(&ups, t, 0);
}

void
conn_fini(void)
{
    buf_pool_trim(&relay_pool);
    buf_pool_trim(&inspect_pool);
    buf_pool_trim(&inspect_large_pool);
    buf_pipe_pool_trim(&pipe_pool);
    ups_fini(&ups);
}

size_t
conn_struct_size(void)
{
    return sizeof(struct conn);
}

/* The termination code's first letter for a failure of side i. */
static inline char
side_letter(int i)
{
    return i == SIDE_CLIENT ? 'C' : 'S';
}

/* Ends the connection abnormally: who is the first letter of the termination code. Keeps
 * the first reason when several follow one another. */
static void
conn_fail(struct conn *c, char who, const char *err, int err_no)
{
    static const char state_letter[] = { 'R', 'C', 'D', 'D', '-' };

    if (c->state == CONN_CLOSED)
        return;
    c->term[0] = who;
    c->term[1] = state_letter[c->state];
    c->err = err;
    c->up.err_no = err_no;
    c->state = CONN_CLOSED;
}

/* Answers a few bytes and gives up on the connection; the answer fits any socket buffer,
 * so a failed or short send only means the client is gone already. */
static void
conn_answer(struct conn *c, const void *data, size_t len, const char *err)
{
    ssize_t n = send(c->side[SIDE_CLIENT].io.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

    (void)n;
    conn_fail(c, 'P', err, 0);
}

static void
side_close(struct ev_loop *loop, struct side *s)
{
    ev_io_stop(loop, &s->io);
    if (s->io.fd != -1)
        close(s->io.fd);
    ev_io_set(&s->io, -1, 0);
}

/* ---- timers ---- */

/* The deadline of the current state, and whose silence it measures ('c' or 's'). */
static ev_tstamp
conn_deadline(const struct conn *c, char *who)
{
    const struct yt_timeouts *to = &table->timeouts;
    ev_tstamp cl = c->side[SIDE_CLIENT].last, sv = c->side[SIDE_SERVER].last, dc, ds;

    switch (c->state) {
    case CONN_INSPECT:
        *who = 'c';
        return deadline_after(c->t_accept, to->inspect_ms);
    case CONN_CONNECT:
        *who = 's';
        return deadline_after(c->t_attempt, to->connect_ms);
    default:
        /* An established TLS relay is a tunnel: one idle limit for both directions. */
        if (to->tunnel_ms != 0) {
            *who = cl <= sv ? 'c' : 's';
            return deadline_after(cl > sv ? cl : sv, to->tunnel_ms);
        }
        dc = deadline_after(cl, to->client_ms);
        ds = deadline_after(sv, to->server_ms);
        *who = dc <= ds ? 'c' : 's';
        return deadline_min(dc, ds);
    }
}

/* Arms the timer for the state's deadline; progress only pushes a deadline later, so the
 * callback re-arms for the time remaining instead of every read touching the timer. */
static void
timer_restart(struct ev_loop *loop, struct conn *c)
{
    char who;
    ev_tstamp left = conn_deadline(c, &who) - ev_now(loop);

    ev_timer_stop(loop, &c->timer);
    if (deadline_is_none(left))
        return;
    ev_timer_set(&c->timer, left > 0 ? left : 0, 0.);
    ev_timer_start(loop, &c->timer);
}

/* ---- connecting ---- */

static void conn_connected(struct ev_loop *loop, struct conn *c, bool early);
static void conn_pump(struct ev_loop *loop, struct conn *c, int from, bool readable);
static void conn_after_pump(struct ev_loop *loop, struct conn *c);

/* Starts a connect to the next server of c->pool that is up; when none is left, ends the
 * connection. */
static void
conn_connect_next(struct ev_loop *loop, struct conn *c)
{
    int fd;

    switch (ups_connect_next(&ups, loop, c->pool, &c->up, 0, &fd, NULL)) {
    case UPS_CONNECTING:
    case UPS_CONNECTED:
    case UPS_REUSED:
        ev_io_set(&c->side[SIDE_SERVER].io, fd, EV_WRITE);
        c->t_attempt = ev_now(loop);
        timer_restart(loop, c);
        conn_connected(loop, c, true);
        return;
    case UPS_NO_SOCKET:
        conn_fail(c, 'R', "socket", c->up.err_no);
        return;
    case UPS_NO_SERVER:
        break;
    }
    if (c->up.tries == 0)
        conn_fail(c, 'S', "no-server", 0);
    else
        conn_fail(c, 'S', c->up.err_no == ETIMEDOUT ? "connect-timeout" : "connect",
                  c->up.err_no);
}

/* The connect in progress failed: mark the server down and go on with the next one. */
static void
conn_connect_failed(struct ev_loop *loop, struct conn *c, int err_no)
{
    side_close(loop, &c->side[SIDE_SERVER]);
    ups_server_down(&ups, loop, c->up.server);
    c->up.err_no = err_no;
    conn_connect_next(loop, c);
}

/* Sends the buffered ClientHello to the server being connected. A send tells how the
 * connect went (a failed connect fails it with its error, and nothing was consumed), which
 * saves a getsockopt(SO_ERROR). It is tried right after connect() (`early`): to a nearby
 * server the handshake is often over by then, and the send saves waiting for the socket
 * to be writable (a loop turn, and an epoll_ctl to watch for writing, then reading); when
 * it is not over, the send fails with EAGAIN and the connect goes on as usual. */
static void
conn_connected(struct ev_loop *loop, struct conn *c, bool early)
{
    struct buf *b = c->side[SIDE_CLIENT].in;
    uint32_t start = b != NULL ? b->start : 0;
    enum ups_sent r;
    ssize_t n;

    assert(!buf_is_empty(b));
    ups_prepend_proxy(b, table->servers[c->up.server].flags, c->side[SIDE_CLIENT].io.fd,
                      &c->peer, c->local);
    c->proxy_len = (uint16_t)(start - b->start);
    r = ups_send_first(c->side[SIDE_SERVER].io.fd, b->data + b->start, buf_len(b), &n);
    if (r == UPS_FAILED || (r == UPS_WAIT && early)) {
        b->start = start;               /* the next try adds its own PROXY header */
        if (r == UPS_FAILED)
            conn_connect_failed(loop, c, errno);
        return;
    }
    ups_server_up(&ups, c->up.server);
    c->t_connected = ev_now(loop);
    c->side[SIDE_CLIENT].last = c->side[SIDE_SERVER].last = c->t_connected;
    c->state = CONN_RELAY;
    if (n > 0)
        b->start += (uint32_t)n;
    /* More of the client's bytes may have come with the hello. */
    conn_pump(loop, c, SIDE_CLIENT, false);
    conn_after_pump(loop, c);
    if (c->state != CONN_CLOSED)
        timer_restart(loop, c);
}

/* ---- inspecting ---- */

/* The ClientHello outgrew a small inspect buffer: go on in a large one. The bytes keep
 * their offsets, and so does the scan. */
static void
inspect_grow(struct conn *c)
{
    struct side *cl = &c->side[SIDE_CLIENT];
    struct buf *b = buf_move(cl->in, &inspect_large_pool);

    if (b == NULL)
        conn_fail(c, 'R', "no-memory", ENOMEM);
    else
        cl->in = b;
}

static void
inspect_tls(struct ev_loop *loop, struct conn *c)
{
    /* RFC 8446 §6: fatal alerts, level 2; unrecognized_name(112), decode_error(50). */
    static const uint8_t alert_unrecognized_name[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70 };
    static const uint8_t alert_decode_error[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32 };
    struct side *cl = &c->side[SIDE_CLIENT];
    char name[SNI_NAME_MAX + 1];
    size_t len = 0;
    enum sni_result r = SNI_NEED_MORE;
    struct yt_decision d;

    (void)loop;
    /* Parsed once, when the records say the message is whole (or a header is wrong). */
    if (cl->in != NULL && sni_scan(&c->scan, cl->in->data + cl->in->start,
                                   buf_len(cl->in)) != SNI_NEED_MORE)
        r = sni_parse(cl->in->data + cl->in->start, buf_len(cl->in), name, &len);
    switch (r) {
    case SNI_NEED_MORE:
        if (buf_is_full(cl->in) && cl->in->pool == &inspect_pool)
            inspect_grow(c);
        else if (buf_is_full(cl->in))
            conn_answer(c, alert_decode_error, sizeof(alert_decode_error), "too-large");
        else if (cl->flags & SIDE_EOF)
            conn_fail(c, 'C', cl->bytes ? "eof-in-hello" : "eof", 0);
        return;
    case SNI_FOUND:
        c->sni = strndup(name, len);
        break;
    case SNI_NO_SNI:
        c->err = "no-sni";
        break;
    case SNI_NOT_TLS:
        conn_fail(c, 'P', "not-tls", 0);
        return;
    default:
        conn_answer(c, alert_decode_error, sizeof(alert_decode_error), sni_result_str(r));
        return;
    }
    d = yt_resolve(table, conn_listener(c), r == SNI_FOUND ? name : NULL, len, NULL, 0);
    c->site = d.site;
    if (d.action != YT_ACT_POOL) {
        conn_answer(c, alert_unrecognized_name, sizeof(alert_unrecognized_name),
                    r == SNI_FOUND ? "unknown-name" : "no-sni");
        return;
    }
    c->pool = d.pool;
    c->state = CONN_CONNECT;
}

/* accept-proxy: the PROXY header in front of the client's first bytes, taken out of the
 * buffer (what follows stays for the mode's inspection). Returns whether inspection may
 * go on; otherwise the header is still coming, or the connection was refused. */
static bool
take_proxy_header(struct conn *c)
{
    struct side *cl = &c->side[SIDE_CLIENT];
    union yt_addr local;
    size_t used;
    const char *err;

    if (cl->in == NULL || buf_is_empty(cl->in))
        return true;                    /* nothing yet: the mode handles an early EOF */
    local.sa.sa_family = AF_UNSPEC;
    switch (pin_take(table, conn_listener(c), cl->in->data + cl->in->start, buf_len(cl->in),
                     &c->peer,
                     &local, &used, &err)) {
    case PIN_WAIT:
        if (cl->flags & SIDE_EOF)
            conn_fail(c, 'C', "truncated-proxy", 0);
        return false;
    case PIN_REFUSE:
        conn_fail(c, 'P', err, 0);
        return false;
    case PIN_PASS:
        break;
    }
    if (pin_keep_local(&local, &c->local) == -1) {
        conn_fail(c, 'R', "no-memory", ENOMEM);
        return false;
    }
    c->proxy_pending = false;
    cl->in->start += (uint32_t)used;
    /* The header is the balancer's, not the client's: a header alone (a health check) is
     * a connection that sent nothing. */
    cl->bytes -= used;
    return true;
}

static void
conn_route(struct ev_loop *loop, struct conn *c)
{
    assert(inspect_by_mode[conn_listener(c)->mode] != NULL);
    if (c->proxy_pending && !take_proxy_header(c))
        return;
    inspect_by_mode[conn_listener(c)->mode](loop, c);
    if (c->state == CONN_INSPECT)
        return;
    c->t_routed = ev_now(loop);
    if (c->state == CONN_CONNECT)
        conn_connect_next(loop, c);
}

/* ---- relaying ---- */

static bool
side_has_pending(const struct side *s)
{
    return !buf_is_empty(s->in) || (s->pipe != NULL && s->pipe->len > 0);
}

/* No more can be read from the side until some of what it sent is delivered. */
static bool
side_is_full(const struct side *s)
{
    return buf_is_full(s->in) || (s->flags & SIDE_PIPE_FULL);
}

static size_t buf_read(struct ev_loop *loop, struct conn *c, int i, bool *more);

/* Splices what side i has for us into its pipe. Returns the bytes read; *more says the
 * read took all it asked for, so the socket may hold more. */
static size_t
pipe_read(struct ev_loop *loop, struct conn *c, int i, bool *more)
{
    struct side *s = &c->side[i];
    size_t want = s->pipe->cap - s->pipe->len, n;
    bool full = false;

    switch (buf_pipe_fill(s->pipe, s->io.fd, want, &n, &full)) {
    case BUF_PIPE_MOVED:
        s->bytes += (uint64_t)n;
        s->last = ev_now(loop);
        break;
    case BUF_PIPE_EOF:
        s->flags |= SIDE_EOF;
        break;
    case BUF_PIPE_REFUSED:
        /* Nothing was taken from the socket: go on through buffers, from now on for
         * every connection. */
        log_msg(LOG_LEVEL_NOTICE, "splice: %s, relaying through buffers", strerror(errno));
        splice_off = true;
        buf_pipe_put(s->pipe);
        s->pipe = NULL;
        return buf_read(loop, c, i, more);
    case BUF_PIPE_FAILED:
        conn_fail(c, side_letter(i), "read", errno);
        break;
    case BUF_PIPE_WAIT:
        break;
    }
    if (full)
        s->flags |= SIDE_PIPE_FULL;
    *more = n > 0 && n == want;
    return n;
}

/* Reads what side i has for us into its buffer, taking one from a pool if needed. Returns
 * and reports like pipe_read(). */
static size_t
buf_read(struct ev_loop *loop, struct conn *c, int i, bool *more)
{
    struct side *s = &c->side[i];
    size_t want;
    ssize_t n;

    *more = false;
    if (s->in == NULL) {
        s->in = buf_get(c->state < CONN_RELAY ? &inspect_pool : &relay_pool);
        if (s->in == NULL) {
            conn_fail(c, 'R', "no-memory", ENOMEM);
            return 0;
        }
    }
    buf_compact(s->in);
    want = buf_room(s->in);
    if (want == 0)
        return 0;
    n = recv(s->io.fd, s->in->data + s->in->end, want, 0);
    if (n > 0) {
        s->in->end += (uint32_t)n;
        s->bytes += (uint64_t)n;
        if (c->k != NULL)
            c->k->d[i].uread += (uint64_t)n;
        s->last = ev_now(loop);
        *more = (size_t)n == want;
        /* A read filled a relay buffer: that direction splices from now on. */
        if (*more && c->state >= CONN_RELAY)
            s->flags |= SIDE_BULK;
        return (size_t)n;
    }
    if ((n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) && c->k != NULL &&
        kdir_lagging(loop, c, i))
        return 0;
    if (n == 0)
        s->flags |= SIDE_EOF;
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        conn_fail(c, side_letter(i), "read", errno);
    return 0;
}

/* Reads from side i into its pipe, or into its buffer while the buffer holds bytes (the
 * ClientHello comes first), before the relay starts, or when no pipe can be had. */
static size_t
side_read(struct ev_loop *loop, struct conn *c, int i, bool *more)
{
    struct side *s = &c->side[i];

    /* Not while the kernel relay has the side: splice would take what its program has
     * not seen. */
    if (s->pipe == NULL && s->in == NULL && (s->flags & SIDE_BULK) && !splice_off &&
        !(c->k != NULL && c->k->d[i].on))
        s->pipe = buf_pipe_get(&pipe_pool);
    if (s->pipe == NULL)
        return buf_read(loop, c, i, more);
    assert(s->in == NULL);
    return pipe_read(loop, c, i, more);
}

/* Sends what the other side read to side i. Returns whether all of it went. */
static bool
side_write(struct ev_loop *loop, struct conn *c, int i)
{
    struct side *s = &c->side[i], *from = &c->side[!i];
    struct buf *b = from->in;
    struct buf_pipe *pp = from->pipe;

    if (side_kernel_writes(c, i))
        return false;
    /* The server socket keeps little unsent, as the client socket does from its listener,
     * from the client's first SEND_LOWAT bytes on: what went before is under the bound
     * anyway, and the many connections that never send more never pay the call. */
    if (i == SIDE_SERVER && !(s->flags & SIDE_LOWAT) && from->bytes > SEND_LOWAT) {
        int lowat = SEND_LOWAT;

        setsockopt(s->io.fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
        s->flags |= SIDE_LOWAT;
    }
    while (side_has_pending(from)) {
        ssize_t n;

        /* When these are the last bytes, the FIN that follows rides in their segment. */
        bool last = from->flags & SIDE_EOF;

        if (pp != NULL)
            n = buf_pipe_drain(pp, s->io.fd, last);
        else
            n = send(s->io.fd, b->data + b->start, buf_len(b),
                     MSG_NOSIGNAL | (last ? MSG_MORE : 0));
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_fail(c, side_letter(i), "write", errno);
            return false;
        }
        if (pp != NULL) {
            from->flags &= (uint8_t)~SIDE_PIPE_FULL;
        } else {
            b->start += (uint32_t)n;
            if (c->k != NULL)
                c->k->d[!i].uwrote += (uint64_t)n;
        }
        s->last = ev_now(loop);
    }
    return true;
}

/* Whether the bytes just read into b end with what has the size of an encrypted alert
 * record: TLS 1.3 (application_data, 2 bytes + content type + 16-byte tag) or TLS 1.2
 * with AES-GCM (8-byte nonce + 2 + 16) or ChaCha20 (2 + 16). A peer that is done sends its
 * close_notify alert, then its FIN. */
static bool
ends_with_alert(const struct buf *b)
{
    static const uint8_t tails[][5] = {
        { 0x17, 0x03, 0x03, 0x00, 0x13 },
        { 0x15, 0x03, 0x03, 0x00, 0x1a },
        { 0x15, 0x03, 0x03, 0x00, 0x12 },
    };

    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        uint32_t rec = 5u + tails[i][4];

        if (buf_len(b) >= rec && memcmp(b->data + b->end - rec, tails[i], 5) == 0)
            return true;
    }
    return false;
}

/* Moves bytes from side `from` to the other: sends what is pending, then while readable
 * reads and sends again, until a read comes up short (the socket is drained), the other
 * socket or our buffer or pipe is full, or RELAY_BURST bytes have been read. Reading
 * until a short read rather than until EAGAIN saves a failing call per event, but for
 * a read that ends with an alert: the FIN likely follows it, and when one more read finds
 * it, the FIN passed on leaves with those bytes (side_write()) instead of on its own. */
static void
conn_pump(struct ev_loop *loop, struct conn *c, int from, bool readable)
{
    struct side *f = &c->side[from];
    size_t budget = RELAY_BURST;
    bool writable = true;

    for (;;) {
        if (writable && side_has_pending(f))
            writable = side_write(loop, c, !from);
        if (c->state == CONN_CLOSED || !readable || budget == 0 ||
            (f->flags & SIDE_EOF) || side_is_full(f))
            return;
        size_t n = side_read(loop, c, from, &readable);

        if (n > 0 && !readable && c->state != CONN_CLOSED && f->in != NULL &&
            !side_is_full(f) && ends_with_alert(f->in))
            n += side_read(loop, c, from, &readable);
        if (c->state == CONN_CLOSED || n == 0)
            return;
        budget = n < budget ? budget - n : 0;
    }
}

/* After transfers: give drained buffers and pipes back, pass a FIN on once everything
 * before it has been delivered, and finish when both directions have. Returns the side
 * that turned out to be reset when its FIN was passed on, or -1. */
static int
conn_settle(struct conn *c)
{
    int reset = -1;

    for (int i = 0; i < 2; i++) {
        struct side *from = &c->side[i], *to = &c->side[!i];

        if (from->in != NULL && buf_is_empty(from->in)) {
            buf_put(from->in);
            from->in = NULL;
        }
        if (from->pipe != NULL && from->pipe->len == 0) {
            buf_pipe_put(from->pipe);
            from->pipe = NULL;
            from->flags &= (uint8_t)~SIDE_PIPE_FULL;
        }
        /* The kernel relay passes a FIN on itself (kdir_pass_fin()). */
        if ((from->flags & SIDE_EOF) && !side_has_pending(from) && !(to->flags & SIDE_SHUT) &&
            !side_kernel_writes(c, !i)) {
            /* When the other direction is finished too, close() right after sends the
             * FIN (nothing is left unread), so the shutdown would be a wasted call. */
            if (!(from->flags & SIDE_SHUT) && shutdown(to->io.fd, SHUT_WR) == -1 &&
                errno == ENOTCONN)
                reset = !i;
            to->flags |= SIDE_SHUT;
        }
    }
    if ((c->side[0].flags & SIDE_SHUT) && (c->side[1].flags & SIDE_SHUT)) {
        c->term[0] = c->term[1] = '-';
        c->state = CONN_CLOSED;
    } else if (c->side[0].flags & SIDE_SHUT || c->side[1].flags & SIDE_SHUT) {
        c->state = CONN_DRAIN;
    }
    return reset;
}

/* Settles after a pump. A peer found reset has nothing more to say but what it sent
 * before: read that and its error now rather than on another turn of the loop. */
static void
conn_after_pump(struct ev_loop *loop, struct conn *c)
{
    int reset;

    if (c->state == CONN_CLOSED || (reset = conn_settle(c)) == -1)
        return;
    conn_pump(loop, c, reset, true);
    if (c->state != CONN_CLOSED)
        conn_settle(c);
}

/* With revents, from conn_accept(): the read right after the accept. */
#define CONN_EV_ACCEPTED EV_CUSTOM

static void
conn_transfer(struct ev_loop *loop, struct conn *c, struct ev_io *w, int revents)
{
    int i = w == &c->side[SIDE_CLIENT].io ? SIDE_CLIENT : SIDE_SERVER;
    bool more;

    if (c->state < CONN_RELAY) {
        /* Until the server is connected only the client is read: the ClientHello. */
        if (i == SIDE_CLIENT && (revents & EV_READ))
            side_read(loop, c, i, &more);
        /* Accepted with nothing to read (and no FIN, which ends the wait): TCP_DEFER_ACCEPT
         * held the client back, connected, for its whole wait, which counts in the inspect
         * time as it does for the client. */
        if ((revents & CONN_EV_ACCEPTED) && c->side[SIDE_CLIENT].bytes == 0 &&
            !(c->side[SIDE_CLIENT].flags & SIDE_EOF) && c->state == CONN_INSPECT) {
            c->t_accept -= ADMIT_DEFER_ACCEPT_S;
            timer_restart(loop, c);
        }
        return;
    }
    /* Side i can take bytes: send it what is pending and, if that made room where the
     * other side's reads had stopped, read the other side again without waiting. */
    if (revents & EV_WRITE) {
        struct side *o = &c->side[!i];

        conn_pump(loop, c, !i, side_is_full(o) && !(o->flags & SIDE_EOF));
    }
    if ((revents & EV_READ) && c->state != CONN_CLOSED)
        conn_pump(loop, c, i, true);
    conn_after_pump(loop, c);
}

/* ---- watchers, the log line, the end ---- */

static void
io_want(struct ev_loop *loop, struct ev_io *w, int events)
{
    int now = ev_is_active(w) ? (w->events & (EV_READ | EV_WRITE)) : 0;

    if (events == now)
        return;
    ev_io_stop(loop, w);
    if (events != 0) {
        ev_io_set(w, w->fd, events);
        ev_io_start(loop, w);
    }
}

/* Watcher interest follows the buffers: read a side while it is open and its buffer has
 * room (backpressure), write it while the other side's buffer holds bytes. */
static void
conn_arm(struct ev_loop *loop, struct conn *c)
{
    int ev[2] = { 0, 0 };

    for (int i = 0; i < 2; i++) {
        struct side *s = &c->side[i];

        if (s->io.fd == -1)
            continue;
        if (c->state == CONN_CONNECT && i == SIDE_SERVER) {
            ev[i] = EV_WRITE;
            continue;
        }
        if (!(s->flags & SIDE_EOF) && !side_is_full(s) && !side_kernel_reads(c, i))
            ev[i] |= EV_READ;
        if (c->state >= CONN_RELAY && side_has_pending(&c->side[!i]) &&
            !side_kernel_writes(c, i))
            ev[i] |= EV_WRITE;
        /* An empty pipe goes back at once: an idle connection holds none. */
        assert(s->pipe == NULL || s->pipe->len > 0);
        assert(s->pipe == NULL || s->in == NULL);
    }
    io_want(loop, &c->side[SIDE_CLIENT].io, ev[SIDE_CLIENT]);
    io_want(loop, &c->side[SIDE_SERVER].io, ev[SIDE_SERVER]);
    /* The kernel relay's events and timer may be all that waits. */
    assert(ev_is_active(&c->side[SIDE_CLIENT].io) || ev_is_active(&c->side[SIDE_SERVER].io) ||
           c->k != NULL);
}

/* ---- the kernel relay (krelay.h) ---- */

#define KDRAIN_FIRST 0.001          /* s: the first look at a queue, then twice as long */
#define KDRAIN_MAX 0.1              /* s: the longest wait between two looks */

static void conn_free(struct ev_loop *loop, struct conn *c);
static void kconn_drain_cb(struct ev_loop *loop, struct ev_timer *w, int revents);
static void kconn_settle(struct ev_loop *loop, struct conn *c);

/* The connections in the kernel relay, by slot. A report names its connection by slot
 * and the slot's generation at the hand-over, which a report that arrives after the
 * connection left no longer matches, and its direction by the sending side. */
static struct kconn **kslots;
static uint32_t *kslots_free;       /* a stack of free slots */
static uint32_t kslots_size, kslots_free_count, kslots_gen;
static uint32_t kdirs_on;           /* directions in the kernel relay, in all */

/* Gives k a slot. Returns 0, or -1 when out of memory. */
static int
kslot_take(struct kconn *k)
{
    if (kslots_free_count == 0) {
        uint32_t size = kslots_size ? kslots_size * 2 : 64;
        struct kconn **slots = realloc(kslots, size * sizeof(*slots));
        uint32_t *free_slots = slots == NULL ? NULL :
                               realloc(kslots_free, size * sizeof(*free_slots));

        if (slots != NULL)
            kslots = slots;
        if (free_slots == NULL)
            return -1;
        kslots_free = free_slots;
        for (uint32_t i = size; i > kslots_size; i--)
            kslots_free[kslots_free_count++] = i - 1;
        kslots_size = size;
    }
    k->slot = kslots_free[--kslots_free_count];
    k->gen = ++kslots_gen;
    kslots[k->slot] = k;
    return 0;
}

static void
kslot_give(const struct kconn *k)
{
    kslots[k->slot] = NULL;
    kslots_free[kslots_free_count++] = k->slot;
}

/* The tag of k's direction from side i, for its reports. */
static uint64_t
kslot_tag(const struct kconn *k, int i)
{
    return (uint64_t)k->gen << 32 | k->slot << 1 | (uint32_t)i;
}

/* The connection a report's tag names, and the sending side (*i); NULL when it left the
 * relay. */
static struct kconn *
kslot_find(uint64_t tag, int *i)
{
    uint32_t slot = (uint32_t)tag >> 1;

    *i = (int)(tag & 1);
    return slot < kslots_size && kslots[slot] != NULL && kslots[slot]->gen == tag >> 32 ?
           kslots[slot] : NULL;
}

/* What the kernel may queue toward a receiver beyond what its socket took: this worker's
 * directions in the kernel relay share KRELAY_BUDGET (krelay.h). */
static uint64_t
kqueue_share(void)
{
    uint64_t share = KRELAY_BUDGET / (kdirs_on > 0 ? kdirs_on : 1);

    return share < KRELAY_QUEUE_MIN ? KRELAY_QUEUE_MIN :
           share > KRELAY_QUEUE_MAX ? KRELAY_QUEUE_MAX : share;
}

/* Whether socket fd has nothing unread (but maybe its FIN). The kernel relay takes what
 * a socket receives in whole chunks, and would send again the part of one the proxy has
 * read already. A peek, as SIOCINQ on a socket in a sockmap counts only what its program
 * kept (since Linux 6.1x), not what waits in its TCP queue. */
static bool
unread_none(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

    return n == 0 || (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/* The sockets the kernel relays from are watched in an epoll set of their own for their
 * FIN (EPOLLRDHUP) and errors only: libev's EV_READ is EPOLLIN, and the kernel signals
 * EPOLLIN for every chunk it relays, which would wake the proxy for each. An event's data
 * is the connection with the side in its lowest bit. The set also has the kernel's ring
 * buffer of reports (its event's data 0). It is read by one watcher of the loop. */
static int kepoll = -1;
static struct ev_io kepoll_io;

static void kepoll_cb(struct ev_loop *loop, struct ev_io *w, int revents);

/* Makes the set, once. Returns 0, or -1 (errno). */
static int
kepoll_open(struct ev_loop *loop)
{
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = 0 };

    if (kepoll != -1)
        return 0;
    kepoll = epoll_create1(EPOLL_CLOEXEC);
    if (kepoll == -1)
        return -1;
    if (epoll_ctl(kepoll, EPOLL_CTL_ADD, krelay_ring(), &e) == -1) {
        int err = errno;

        close(kepoll);
        kepoll = -1;
        errno = err;
        return -1;
    }
    ev_io_init(&kepoll_io, kepoll_cb, kepoll, EV_READ);
    ev_io_start(loop, &kepoll_io);
    ev_unref(loop);                 /* the connections' timers keep the loop running */
    return 0;
}

/* Adds c's side i to the set (watch) or takes it out. Returns 0, or -1 (errno). */
static int
kepoll_watch(struct conn *c, int i, bool watch)
{
    struct epoll_event e = { .events = EPOLLRDHUP, .data.u64 = (uintptr_t)c | (uintptr_t)i };

    return epoll_ctl(kepoll, watch ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->side[i].io.fd, &e);
}

/* Whether side i's bytes can go to the kernel now: relaying (a peer that half-closed is
 * fine, its side stays here), nothing of side i's waiting here or unread, no FIN from it
 * yet, and none passed on to it. */
static bool
kdir_ready(const struct conn *c, int i)
{
    const struct side *s = &c->side[i];

    return (c->state == CONN_RELAY || c->state == CONN_DRAIN) && !c->user_only &&
           (c->k == NULL || !c->k->d[i].on) && krelay_listener_on(conn_listener(c)) &&
           s->in == NULL && s->pipe == NULL && !(s->flags & SIDE_EOF) &&
           !(c->side[!i].flags & SIDE_SHUT) && unread_none(s->io.fd);
}

/* The kernel relay refused c (err): what it does not relay yet is relayed here, the first
 * time with a word why. EOPNOTSUPP is not worth one: a socket was no longer established
 * (its FIN came). */
static void
kconn_refused(struct conn *c, int err)
{
    static bool told;
    struct kconn *k = c->k;

    if (!told && err != EOPNOTSUPP) {
        log_msg(LOG_LEVEL_WARNING, "relay: the kernel refused a connection (%s): "
                "relaying it in user space", strerror(err));
        told = true;
    }
    c->user_only = true;
    if (k != NULL && !k->d[0].on && !k->d[1].on) {
        kslot_give(k);
        free(k);
        c->k = NULL;
    }
}

/* Gives c what the kernel relay keeps of it. Returns 0, or -1 when refused. */
static int
kconn_new(struct ev_loop *loop, struct conn *c)
{
    struct kconn *k = calloc(1, sizeof(*k));
    int err = ENOMEM;

    if (k != NULL && kslot_take(k) == 0) {
        if (kepoll_open(loop) == 0) {
            ev_timer_init(&k->drain, kconn_drain_cb, 0., 0.);
            k->drain.data = c;
            c->k = k;
            return 0;
        }
        err = errno;
        kslot_give(k);
    }
    free(k);
    kconn_refused(c, err);
    return -1;
}

/* What side i's peer got before the kernel relay takes over: what the relay here read
 * from side i (kdir_ready(): all of it is written), and the PROXY header before it; for a
 * tunnel, whose owner wrote to both before the hand-over, the socket's own count, which
 * for the server (connected by us) has the SYN too. Returns that, or -1 (errno). */
static int64_t
kdir_sent_before(const struct conn *c, int i)
{
    int64_t taken;

    if (c->tunnel == NULL)
        return (int64_t)c->side[i].bytes + (i == SIDE_CLIENT ? c->proxy_len : 0);
    taken = krelay_taken(c->side[!i].io.fd);
    return taken > 0 && i == SIDE_CLIENT ? taken - 1 : taken;
}

/* Hands what side i sends to the kernel relay; stays here when it refuses. */
static void
kdir_start(struct ev_loop *loop, struct conn *c, int i)
{
    int from = c->side[i].io.fd, to = c->side[!i].io.fd, unbounded = 0;
    struct kdir *d;
    int64_t sent;

    if (c->k == NULL && kconn_new(loop, c) == -1)
        return;
    d = &c->k->d[i];
    *d = (struct kdir){ 0 };
    if (kepoll_watch(c, i, true) == -1) {
        kconn_refused(c, errno);
        return;
    }
    if ((sent = kdir_sent_before(c, i)) == -1 ||
        krelay_link(&d->pair, from, to, kslot_tag(c->k, i), kqueue_share()) == -1) {
        int err = errno;

        kepoll_watch(c, i, false);
        kconn_refused(c, err);
        return;
    }
    /* The kernel's queue toward a socket waits a scheduler tick whenever the socket takes
     * no more, which the unsent-bytes bound (TCP_NOTSENT_LOWAT) makes every few segments:
     * bulk transfers ran at a fifth of the speed. The bound goes while the kernel relays
     * toward the socket, for good; its own queue is bounded by kqueue_share(). */
    setsockopt(to, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unbounded, sizeof(unbounded));
    c->side[!i].flags |= SIDE_LOWAT;
    d->sent = (uint64_t)sent;
    d->on = true;
    kdirs_on++;
}

/* Hands each direction to the kernel relay once it can go: both are looked at first,
 * as the other socket's unread bytes are still the kernel's to say. */
static void
kconn_start(struct ev_loop *loop, struct conn *c)
{
    bool server = kdir_ready(c, SIDE_SERVER), client = kdir_ready(c, SIDE_CLIENT);

    if (server)
        kdir_start(loop, c, SIDE_SERVER);
    if (client)
        kdir_start(loop, c, SIDE_CLIENT);
}

/* Takes the kernel's count of what it relayed from side i into st, and adds what is new
 * of it to side i's count. Returns 0, or -1 (errno) when the entry is gone. */
static int
kdir_count(struct conn *c, int i, struct krelay_stat *st)
{
    struct kdir *d = &c->k->d[i];

    if (krelay_stat(&d->pair, st) == -1)
        return -1;
    c->side[i].bytes += st->bytes - d->counted;
    d->counted = st->bytes;
    return 0;
}

/* Takes the kernel's counts, and when it last relayed (a read from one side and a write
 * to the other, both as recent). */
static void
kconn_refresh(struct ev_loop *loop, struct conn *c)
{
    struct krelay_stat st;
    struct timespec ts;
    uint64_t now_ns, last_ns = 0;
    ev_tstamp last;

    for (int i = 0; i < 2; i++)
        if (c->k->d[i].on && kdir_count(c, i, &st) == 0 && st.last_ns > last_ns)
            last_ns = st.last_ns;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (last_ns == 0 || last_ns > now_ns)
        return;
    last = ev_now(loop) - (ev_tstamp)(now_ns - last_ns) / 1e9;
    for (int j = 0; j < 2; j++)
        if (c->side[j].last < last)
            c->side[j].last = last;
}

/* How many of side i's bytes the kernel still holds, queued toward the other side
 * (st: its count; the other side also got what the relay here wrote). Returns that, or
 * -1 (errno). */
static int64_t
kdir_backlog(const struct conn *c, int i, const struct krelay_stat *st)
{
    const struct kdir *d = &c->k->d[i];

    return krelay_backlog(c->side[!i].io.fd, d->sent + d->uwrote + st->bytes);
}

/* Side i woke the proxy (revents, epoll's): its FIN or an error. When its bytes are
 * relayed here, the relay here reads its FIN after them. */
static void
kconn_event(struct conn *c, int i, uint32_t revents)
{
    struct side *s = &c->side[i];
    int err = 0;
    socklen_t len = sizeof(err);

    if (revents & EPOLLERR) {
        getsockopt(s->io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        conn_fail(c, side_letter(i), "read", err != 0 ? err : ECONNRESET);
        return;
    }
    if (!c->k->d[i].user)
        s->flags |= SIDE_EOF;
    kepoll_watch(c, i, false);      /* level-triggered: once is enough */
    s->flags |= SIDE_SHUT_WATCH;
}

/* The kernel reported on side i's bytes: it relayed another 2^KRELAY_REPORT_SHIFT, and
 * may go kqueue_share() beyond what the receiver took; or it reached that and keeps what
 * side i sends (the receiver takes no more); or, while it keeps them, another
 * 2^KRELAY_REPORT_SHIFT were kept (it hears how many the relay here read); or the
 * receiver's socket is gone; or it gave up (krelay.bpf.c): the connection ends.
 *
 * Kept bytes: what side i sends comes to user space. The relay here reads it, and writes
 * it to the receiver once the kernel's queue toward the receiver is empty (the caller
 * settles next: kdir_clearing()). A FIN seen already is for the relay here to read,
 * after those bytes. */
static void
kdir_reported(struct conn *c, int i)
{
    struct kdir *d = &c->k->d[i];
    struct krelay_stat st;
    int64_t backlog;

    if (krelay_stat(&d->pair, &st) == -1)
        return;
    if (st.broken == KRELAY_BROKEN_RESENT) {    /* could not relay a byte exactly once */
        conn_fail(c, 'P', "relay-resent", 0);
    } else if (st.broken != 0) {    /* sent on, but its peer reads neither: krelay.h */
        conn_fail(c, side_letter(i), "relay-full", 0);
    } else if (!d->user && st.gone) {   /* the receiver's socket closed: its error comes */
        conn_fail(c, side_letter(!i), "write", EPIPE);
    } else if (d->user || st.held != d->uread) {
        if (!d->user)
            c->side[i].flags &= (uint8_t)~SIDE_EOF;
        d->user = true;
        if (krelay_read(&d->pair, d->uread) == -1)
            conn_fail(c, 'P', "relay-allow", errno);
    } else if ((backlog = kdir_backlog(c, i, &st)) == -1 ||
               krelay_allow(&d->pair, d->uread,
                            st.bytes - (uint64_t)backlog + kqueue_share()) == -1) {
        conn_fail(c, 'P', "relay-allow", errno);
    }
}

/* Side i's bytes relayed here may go to the other side once the kernel has delivered all
 * it took before. Returns whether that waits. */
static bool
kdir_clearing(struct conn *c, int i)
{
    struct kdir *d = &c->k->d[i];
    struct krelay_stat st;
    int64_t backlog;

    if (!d->user || d->clear)
        return false;
    if (kdir_count(c, i, &st) == -1 || (backlog = kdir_backlog(c, i, &st)) == -1) {
        conn_fail(c, side_letter(!i), "write", errno);
        return false;
    }
    d->clear = backlog == 0;
    return !d->clear;
}

/* A read of side i, whose bytes the kernel keeps for the relay here, found none (or its
 * FIN): when the kernel kept more than was read, they wait in a queue of its own (the
 * receive buffer was full as they came), which its worker empties once woken. Wakes it,
 * and reads again after a while (the socket says readable meanwhile). Returns whether
 * that is so. */
static bool
kdir_lagging(struct ev_loop *loop, struct conn *c, int i)
{
    struct kdir *d = &c->k->d[i];
    struct krelay_stat st;

    if (!d->user || krelay_stat(&d->pair, &st) == -1 || st.held == d->uread)
        return false;
    krelay_kick(c->side[i].io.fd);
    d->lag = true;
    kconn_settle(loop, c);
    return true;
}

/* Side i's bytes go back to the kernel once all it kept has been delivered: nothing waits
 * here or in the socket, no FIN came (the relay here passes that on). The kernel keeps
 * what comes meanwhile until it has been told of all before. */
static void
kdir_resume(struct conn *c, int i)
{
    struct kdir *d = &c->k->d[i];
    struct side *s = &c->side[i];
    struct krelay_stat st;

    if (!d->user || !d->clear || side_has_pending(s) ||
        (s->flags & (SIDE_EOF | SIDE_SHUT_WATCH)) || !unread_none(s->io.fd))
        return;
    if (krelay_stat(&d->pair, &st) == -1 ||
        krelay_allow(&d->pair, d->uread, st.bytes + kqueue_share()) == -1 ||
        krelay_stat(&d->pair, &st) == -1 || st.held != d->uread)
        return;
    d->user = false;
    d->clear = false;
}

/* Passes side i's FIN on to the other side once all before it is delivered. Returns
 * whether it waits. */
static bool
kdir_pass_fin(struct conn *c, int i)
{
    struct side *from = &c->side[i], *to = &c->side[!i];
    struct kdir *d = &c->k->d[i];
    struct krelay_stat st;
    int64_t backlog;

    if (!d->on || d->user || !(from->flags & SIDE_EOF) || (to->flags & SIDE_SHUT))
        return false;
    if (!unread_none(from->io.fd))
        return true;
    if (kdir_count(c, i, &st) == -1 || (backlog = kdir_backlog(c, i, &st)) == -1) {
        conn_fail(c, side_letter(!i), "write", errno);
        return false;
    }
    if (backlog > 0 || st.held != d->uread)
        return true;
    if (shutdown(to->io.fd, SHUT_WR) == -1) {
        conn_fail(c, side_letter(!i), "write", errno);
        return false;
    }
    to->flags |= SIDE_SHUT;
    c->state = (from->flags & SIDE_SHUT) ? CONN_CLOSED : CONN_DRAIN;
    if (c->state == CONN_CLOSED)
        c->term[0] = c->term[1] = '-';
    return false;
}

/* Moves the connection on from what the kernel has done: FINs passed on, a side cleared
 * for writing here; looks again with a timer while it waits. */
static void
kconn_settle(struct ev_loop *loop, struct conn *c)
{
    struct kconn *k = c->k;
    bool waiting = false;

    for (int i = 0; i < 2 && c->state != CONN_CLOSED; i++)
        waiting = kdir_pass_fin(c, i) || waiting;
    for (int i = 0; i < 2 && c->state != CONN_CLOSED; i++)
        waiting = kdir_clearing(c, i) || k->d[i].lag || waiting;
    if (!waiting || c->state == CONN_CLOSED) {
        ev_timer_stop(loop, &k->drain);
        k->every = 0;
    } else if (!ev_is_active(&k->drain)) {
        k->every = k->every == 0 ? KDRAIN_FIRST : k->every * 2;
        if (k->every > KDRAIN_MAX)
            k->every = KDRAIN_MAX;
        ev_timer_set(&k->drain, k->every, 0.);
        ev_timer_start(loop, &k->drain);
    }
}

/* After an event: the connection is freed if it ended, else its watchers follow its
 * buffers (conn_arm() leaves to the kernel what it relays). */
static void
conn_after_event(struct ev_loop *loop, struct conn *c)
{
    if (c->state == CONN_CLOSED) {
        conn_free(loop, c);
        return;
    }
    if (c->k != NULL)
        for (int i = 0; i < 2; i++)
            kdir_resume(c, i);
    conn_arm(loop, c);
}

/* The kernel's reports, then one socket event at a time: handling one may free its
 * connection. */
static void
kepoll_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct epoll_event e;

    (void)w;
    (void)revents;
    while (epoll_wait(kepoll, &e, 1, 0) == 1) {
        struct conn *c = (struct conn *)(uintptr_t)(e.data.u64 & ~(uint64_t)1);
        int i = (int)(e.data.u64 & 1);
        uint64_t tag;

        if (c == NULL) {
            struct kconn *k;

            while (krelay_report(&tag))
                if ((k = kslot_find(tag, &i)) != NULL) {
                    c = k->drain.data;
                    kdir_reported(c, i);
                    if (c->state != CONN_CLOSED)
                        kconn_settle(loop, c);
                    conn_after_event(loop, c);
                }
            continue;
        }
        kconn_event(c, i, e.events);
        if (c->state != CONN_CLOSED)
            kconn_settle(loop, c);
        conn_after_event(loop, c);
    }
}

static void
kconn_drain_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct conn *c = w->data;

    (void)revents;
    c->k->d[0].lag = c->k->d[1].lag = false;
    kconn_settle(loop, c);
    conn_after_event(loop, c);
}

/* The connection leaves the kernel relay (it is being freed): its last counts. */
static void
kconn_end(struct ev_loop *loop, struct conn *c)
{
    struct kconn *k = c->k;

    kconn_refresh(loop, c);
    stats_kernel(conn_listener(c), k->d[SIDE_SERVER].counted, k->d[SIDE_CLIENT].counted);
    for (int i = 0; i < 2; i++)
        if (k->d[i].on) {
            krelay_unlink(&k->d[i].pair);
            kdirs_on--;
        }
    ev_timer_stop(loop, &k->drain);
    kslot_give(k);
    free(k);
    c->k = NULL;
}

/* The connection's access line, as text or JSON (alog.h: json is a constant). */
static inline __attribute__((always_inline)) void
conn_log_line(ev_tstamp now, const struct conn *c, bool json)
{
    struct alog a;

    alog_l4_head(&a, json, table, c->id, &c->peer, conn_listener(c), c->sni, c->site,
                 c->up.server, c->side[SIDE_CLIENT].bytes, c->side[SIDE_SERVER].bytes,
                 clock_ms_between(c->t_accept, c->t_routed > 0 ? c->t_routed : now));
    alog_key(&a, json, " connect=", "connect");
    if (c->t_connected > 0)
        alog_long(&a, clock_ms_between(c->t_routed, c->t_connected));
    else
        alog_none(&a, json);
    alog_l4_tail(&a, json, clock_ms_between(c->t_accept, now), c->term, c->err, c->up.err_no);
}

static void
conn_log(struct ev_loop *loop, const struct conn *c)
{
    if ((conn_listener(c)->flags & YT_LISTENER_DONTLOGNULL) && c->side[SIDE_CLIENT].bytes == 0)
        return;
    if (!alog_wanted(conn_listener(c)))
        return;
    if (conn_listener(c)->flags & YT_LISTENER_LOG_JSON)
        conn_log_line(ev_now(loop), c, true);
    else
        conn_log_line(ev_now(loop), c, false);
}

/* The one place a connection is freed. A tunnel's owner counts and logs it: it hears of
 * the end last, when nothing of the connection is left. */
static void
conn_free(struct ev_loop *loop, struct conn *c)
{
    struct tunnel *t = c->tunnel;
    struct conn_tunnel_end end;

    if (c->k != NULL)
        kconn_end(loop, c);
    if (t != NULL) {
        end = (struct conn_tunnel_end){ c->side[SIDE_CLIENT].bytes, c->side[SIDE_SERVER].bytes,
                                        { c->term[0], c->term[1] }, c->err, c->up.err_no };
    } else {
        conn_log(loop, c);
        stats_end(conn_listener(c), c->pool, c->up.server, c->side[SIDE_CLIENT].bytes,
                  c->side[SIDE_SERVER].bytes, c->term);
        admit_leave();
    }
    for (int i = 0; i < 2; i++) {
        side_close(loop, &c->side[i]);
        buf_put(c->side[i].in);
        buf_pipe_put(c->side[i].pipe);
    }
    ev_timer_stop(loop, &c->timer);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c->sni);
    free(c->local);
    free(c);
    if (t != NULL) {
        t->done(t->arg, &end);
        free(t);
    }
}

static void
conn_io_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct conn *c = w->data;

    conn_transfer(loop, c, w, revents);
    if (c->state == CONN_INSPECT)
        conn_route(loop, c);
    if (c->state == CONN_CONNECT && w == &c->side[SIDE_SERVER].io && (revents & EV_WRITE))
        conn_connected(loop, c, false);
    if (c->state == CONN_CLOSED) {
        conn_free(loop, c);
        return;
    }
    kconn_start(loop, c);
    conn_after_event(loop, c);
}

static void
conn_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct conn *c = w->data;
    char who;

    (void)revents;
    if (c->k != NULL)
        kconn_refresh(loop, c);
    if (conn_deadline(c, &who) > ev_now(loop)) {
        timer_restart(loop, c);
        return;
    }
    switch (c->state) {
    case CONN_INSPECT:
        conn_fail(c, 'c', "inspect-timeout", 0);
        break;
    case CONN_CONNECT:
        conn_connect_failed(loop, c, ETIMEDOUT);
        if (c->state == CONN_CLOSED)
            c->term[0] = 's';
        break;
    default:
        conn_fail(c, who, "idle-timeout", 0);
        break;
    }
    conn_after_event(loop, c);
}

/* A connection of listener l with client socket fd (taken), in the list of open ones;
 * NULL when out of memory. */
static struct conn *
conn_new(struct ev_loop *loop, int fd, const struct yt_listener *l)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    /* TCP_NODELAY comes from the listening socket (listener.c). */
    ev_io_init(&c->side[SIDE_CLIENT].io, conn_io_cb, fd, EV_READ);
    ev_io_init(&c->side[SIDE_SERVER].io, conn_io_cb, -1, 0);
    c->side[SIDE_CLIENT].io.data = c->side[SIDE_SERVER].io.data = c;
    ev_timer_init(&c->timer, conn_timer_cb, 0., 0.);
    c->timer.data = c;
    c->listener = (uint32_t)(l - table->listeners);
    c->site = c->pool = c->up.server = YT_NONE;
    c->t_accept = ev_now(loop);
    c->next = conns;
    if (conns != NULL)
        conns->prev = c;
    conns = c;
    return c;
}

void
conn_accept(struct ev_loop *loop, int fd, const struct yt_listener *l, const union yt_addr *peer)
{
    struct conn *c = conn_new(loop, fd, l);

    if (c == NULL) {
        log_msg(LOG_LEVEL_WARNING, "accept: out of memory, connection dropped");
        close(fd);
        return;
    }
    c->peer = *peer;
    c->proxy_pending = l->range_count > 0;
    c->id = stats_next_id();
    c->state = CONN_INSPECT;
    admit_enter();
    timer_restart(loop, c);
    /* With TCP_DEFER_ACCEPT the ClientHello is usually there already: read it now. */
    conn_io_cb(loop, &c->side[SIDE_CLIENT].io, EV_READ | CONN_EV_ACCEPTED);
}

struct conn *
conn_tunnel(struct ev_loop *loop, int client, int server, const struct yt_listener *l,
            conn_tunnel_done *done, void *arg)
{
    struct tunnel *t = malloc(sizeof(*t));
    struct conn *c = t != NULL ? conn_new(loop, client, l) : NULL;

    if (c == NULL) {
        free(t);
        return NULL;
    }
    *t = (struct tunnel){ done, arg };
    c->tunnel = t;
    ev_io_set(&c->side[SIDE_SERVER].io, server, 0);
    /* The owner connected the server with TCP_NOTSENT_LOWAT already (UPS_LOWAT). */
    c->side[SIDE_SERVER].flags = SIDE_LOWAT;
    c->t_routed = c->t_connected = c->t_accept;
    c->side[SIDE_CLIENT].last = c->side[SIDE_SERVER].last = c->t_accept;
    c->state = CONN_RELAY;
    kconn_start(loop, c);
    conn_arm(loop, c);
    timer_restart(loop, c);
    return c;
}

void
conn_close(struct ev_loop *loop, struct conn *c)
{
    conn_fail(c, 'P', "shutdown", 0);
    conn_free(loop, c);
}

void
conn_close_all(struct ev_loop *loop)
{
    struct conn *c, *next;

    for (c = conns; c != NULL; c = next) {
        next = c->next;
        if (c->tunnel == NULL)
            conn_close(loop, c);
    }
}
