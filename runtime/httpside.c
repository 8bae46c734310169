/* Layer 7, the sides: the server connection (connect, reuse, park, close), and reading,
 * writing and splicing either side. See httpconn.h. */
#include "httpconn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "alog.h"
#include "clock.h"
#include "evio.h"
#include "reply.h"
#include "rewrite.h"
#include "stats.h"

static void connect_send(struct http_conn *c);
static bool read_server(struct http_conn *c);

/* Moves the pending bytes of b to the front when they reach limit or start passed half. */
void
http_make_room(struct buf *b, uint32_t limit)
{
    size_t n = buf_len(b);

    if (b->start == 0 || (b->end < limit && b->start < b->cap / 2))
        return;
    memmove(b->data, b->data + b->start, n);
    b->start = 0;
    b->end = (uint32_t)n;
}

void
http_close_server(struct http_conn *c)
{
    if (c->sv.fd >= 0) {
        http_set_io(c->loop, &c->sv.io, -1, 0);
        close(c->sv.fd);
        c->sv.fd = -1;
    }
    c->sv.corked = false;
    /* Bytes the server sent past what was cleared for the client are dropped with it. */
    if (c->sv.in != NULL)
        c->sv.in->end = c->sv.in->start + c->sv.fwd;
    put_if_empty(&c->sv.in);
    c->sv.eof = c->sv.err = c->server_wr_err = c->server_dirty = false;
    c->server_reused = c->server_idle = false;
    c->server_nreq = 0;
}

/* True when an idle kept server connection has neither closed nor sent anything. Its
 * watcher reads while it is idle (read_server() closes it on any event), so once the loop
 * has polled since the last read, a close that came before that poll is an event pending
 * for it. Asking the kernel (MSG_PEEK) costs a system call per request and only narrows the
 * race with the server's keep-alive timeout that remains anyway (RFC 9112 §9.6), so it is
 * kept for a request that follows the previous response without a poll in between
 * (pipelining), where the server's close may have come with that response. */
bool
http_server_is_alive(const struct http_conn *c)
{
    if (!ev_is_active(&c->sv.io) || ev_is_pending(&c->sv.io))
        return false;
    if (ev_iteration(c->loop) != c->server_read_iter)
        return true;
    return !ups_has_unread(c->sv.fd);
}

/* The client is done with its server connection: parks it when it is clean and idle
 * and the process is not stopping; else closes it. */
void
http_release_server(struct http_conn *c)
{
    if (c->sv.fd < 0)
        return;
    if (!c->server_idle || c->up.server == YT_NONE || http_eng.quiescing ||
        ev_is_pending(&c->sv.io)) {
        http_close_server(c);
        return;
    }
    http_set_io(c->loop, &c->sv.io, -1, 0);
    ups_idle_park(&http_eng.ups, c->loop, c->sv.fd, c->up.server, c->server_nreq);
    c->sv.fd = -1;
    http_close_server(c);                /* resets the server side of c */
}

/* n bytes of the request went to the server. On a reused connection they stay in the
 * buffer, before start, until the answer begins: see retry_request. */
static void
sent_to_server(struct http_conn *c, size_t n)
{
    c->cl.in->start += (uint32_t)n;
    c->cl.fwd -= (uint32_t)n;
    c->sv.last = ev_now(c->loop);
    if (c->can_retry)
        c->req_hold += (uint32_t)n;
    else
        put_if_empty(&c->cl.in);
}

/* The answer began: the request will not be sent again. */
static void
drop_hold(struct http_conn *c)
{
    c->can_retry = false;
    c->req_hold = 0;
    put_if_empty(&c->cl.in);
}

/* The request goes out on the kept connection sv.fd to c->up.server, which has carried
 * server_nreq requests so far. */
void
http_reuse_server(struct http_conn *c)
{
    c->server_reused = true;
    c->server_idle = false;
    c->can_retry = c->retry_ok;
    c->log_server = c->up.server;
    c->log_reuse = c->server_nreq++;
    c->t_conn_start = c->t_conn_done = ev_now(c->loop);
    c->sv.last = c->t_conn_done;
    c->state = HTTP_RELAY;
}

/* A reused server connection ended before the first byte of the answer: the server most
 * likely closed it as idle while the request was on its way (RFC 9112 §9.6), so the
 * request, idempotent and without a body, goes once more, on a new connection
 * (RFC 9112 §9.3.1). Its bytes are still in the buffer, req_hold bytes before start. */
void
http_retry_request(struct http_conn *c)
{
    c->cl.in->start -= c->req_hold;
    c->cl.fwd += c->req_hold;
    c->req_hold = 0;
    c->can_retry = false;
    c->retried = true;
    http_close_server(c);
    c->up.tries = 0;
    c->up.server = YT_NONE;
    http_connect_next(c);
}

static void
connected(struct http_conn *c)
{
    const struct yt_server *s = &http_eng.t->servers[c->up.server];

    c->t_conn_done = ev_now(c->loop);
    c->sv.last = c->t_conn_done;
    ups_server_up(&http_eng.ups, c->up.server);
    c->state = HTTP_RELAY;
    if (s->flags & (YT_SERVER_PROXY_V1 | YT_SERVER_PROXY_V2)) {
        size_t n = c->cl.in != NULL
                   ? ups_prepend_proxy(c->cl.in, s->flags, c->cl.fd, &c->peer,
                                                     c->local) : 0;

        if (n == 0)
            http_answer_error(c, 503, "proxy-header", "PC");
        c->cl.fwd += (uint32_t)n;
    }
}

/* Connects to the next server of the pool that is up, or takes a kept connection to it;
 * 503 when there is none left. */
void
http_connect_next(struct http_conn *c)
{
    unsigned flags = UPS_LOWAT | (c->retried ? 0 : UPS_TAKE_IDLE);
    uint32_t tries = c->up.tries;
    enum ups_result r;
    int fd;

    r = ups_connect_next(&http_eng.ups, c->loop, c->pool, &c->up, flags, &fd, &c->server_nreq);
    if (c->up.tries != tries)
        c->log_server = c->up.server;
    switch (r) {
    case UPS_REUSED:
        c->sv.fd = fd;
        io_handover(&c->sv.io, fd, 0);  /* the idle pool's watcher had it until now */
        http_reuse_server(c);
        return;
    case UPS_CONNECTED:
    case UPS_CONNECTING:
        c->sv.fd = fd;
        c->t_conn_start = ev_now(c->loop);
        c->server_nreq = 1;
        c->log_reuse = 0;
        if (r == UPS_CONNECTED) {
            connected(c);
        } else {
            c->state = HTTP_CONNECT;
            connect_send(c);
        }
        return;
    case UPS_NO_SOCKET:
        http_answer_error(c, 503, "socket", "RC");
        return;
    case UPS_NO_SERVER:
        break;
    }
    http_answer_error(c, 503, "no-server", "SC");
}

/* The connect in progress failed (refused, reset, timed out): the next server, if any. */
static void
connect_failed(struct http_conn *c, bool timed_out)
{
    http_set_io(c->loop, &c->sv.io, -1, 0);
    close(c->sv.fd);
    c->sv.fd = -1;
    ups_server_down(&http_eng.ups, c->loop, c->up.server);
    c->err = timed_out ? "connect-timeout" : "connect-refused";
    set_term(c, timed_out ? "sC" : "SC");
    http_connect_next(c);
    if (c->state != HTTP_DRAIN) {       /* another server took it */
        c->err = NULL;
        c->term[0] = c->term[1] = '-';
    }
}

/* The connect in progress ended (writable) or timed out (timed_out). */
void
http_connect_done(struct http_conn *c, bool timed_out)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (!timed_out && getsockopt(c->sv.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
        err = errno;
    if (!timed_out && err == 0) {
        connected(c);
        return;
    }
    if (err == EINPROGRESS || err == EALREADY)
        return;
    connect_failed(c, timed_out);
}

/* A connect to a nearby server has often completed by the time connect() returns: send the
 * request at once instead of waiting for writability and asking SO_ERROR. While the
 * handshake is still under way send() says EAGAIN (the usual wait follows); a failed
 * connect reports its error here, before any byte left, so the next server may take the
 * request. A server that gets a PROXY header takes the usual way. */
static void
connect_send(struct http_conn *c)
{
    const struct yt_server *s = &http_eng.t->servers[c->up.server];
    ssize_t n;

    if (c->cl.fwd == 0 || (s->flags & (YT_SERVER_PROXY_V1 | YT_SERVER_PROXY_V2)))
        return;
    switch (ups_send_first(c->sv.fd, c->cl.in->data + c->cl.in->start, c->cl.fwd, &n)) {
    case UPS_WAIT:
        return;
    case UPS_FAILED:
        connect_failed(c, false);
        return;
    case UPS_SENT:
        break;
    }
    connected(c);
    sent_to_server(c, (size_t)n);
}

/* buf_pipe_fill() into *pp, for a body: an empty pipe goes back to the pool at once, so a
 * connection waiting for bytes holds none; and once the kernel refuses to splice, bodies
 * go through buffers from then on. */
static enum buf_pipe_result
pipe_in(int fd, struct buf_pipe **pp, size_t want, size_t *moved, bool *full)
{
    enum buf_pipe_result r = buf_pipe_fill(*pp, fd, want, moved, full);

    if (r == BUF_PIPE_REFUSED) {
        log_msg(LOG_LEVEL_NOTICE, "splice: %s, relaying bodies through buffers",
                strerror(errno));
        http_eng.splice_off = true;
    }
    if ((*pp)->len == 0) {
        buf_pipe_put(*pp);
        *pp = NULL;
    }
    return r;
}

/* buf_pipe_drain() of *pp into socket fd; the pipe goes back once empty. */
static ssize_t
pipe_out(struct buf_pipe **pp, int fd, bool more)
{
    ssize_t n = buf_pipe_drain(*pp, fd, more);

    if ((*pp)->len == 0) {
        buf_pipe_put(*pp);          /* an idle connection holds no pipe */
        *pp = NULL;
    }
    return n;
}

static inline bool
would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static inline struct http_side *
other(struct http_conn *c, const struct http_side *s)
{
    return s == &c->cl ? &c->sv : &c->cl;
}

/* A body relayed as it comes (a Content-Length, or until the server closes) goes from
 * side s through a pipe once a read has filled the buffer with it and the buffer has
 * nothing left before it: the order of bytes is kept, and heads, chunked bodies and small
 * answers stay on the buffer, where they are framed. A request body waits while bytes are
 * held for a retry or the server takes no more. Says whether s->pipe is in use. */
static bool
splice_start(struct http_conn *c, struct http_side *s)
{
    if (s->pipe != NULL)
        return true;
    if (!s->bulk || http_eng.splice_off || c->state != HTTP_RELAY || buf_len(s->in) > 0 ||
        body_want(&s->body) == 0 || (s == &c->cl && (c->req_hold > 0 || c->server_wr_err)))
        return false;
    s->pipe = buf_pipe_get(&http_eng.pipes);
    s->pipe_full = false;
    return s->pipe != NULL;
}

/* Splices the body from side s into its pipe, never past its end: what follows stays in
 * the socket, to be read (and judged) as before. Returns whether it took all it asked
 * for (s->more). */
static bool
read_pipe(struct http_conn *c, struct http_side *s)
{
    size_t want = s->pipe->cap - s->pipe->len, n = 0;

    if (body_want(&s->body) < want)
        want = body_want(&s->body);
    if (want == 0)
        return false;
    if (s == &c->sv)
        c->server_read_iter = ev_iteration(c->loop);
    switch (pipe_in(s->fd, &s->pipe, want, &n, &s->pipe_full)) {
    case BUF_PIPE_MOVED:
        *(s == &c->cl ? &c->bytes_in : &c->bytes_out) += n;
        s->last = ev_now(c->loop);
        body_took(&s->body, n);
        break;
    case BUF_PIPE_EOF:
        s->eof = true;
        break;
    case BUF_PIPE_REFUSED:
        return http_read_side(c, s);
    case BUF_PIPE_FAILED:
        s->eof = s->err = true;
        break;
    case BUF_PIPE_WAIT:
        break;
    }
    s->more = n == want;
    return s->more;
}

/* Reads what side s sent into the room bytes after the end of its buffer; notes its EOF
 * or failure, and in s->more whether the read filled all that room (more is probably
 * waiting). Returns the bytes read. */
static inline size_t
recv_in(struct http_conn *c, struct http_side *s, size_t room)
{
    ssize_t n = recv(s->fd, s->in->data + s->in->end, room, 0);

    s->more = n == (ssize_t)room;
    if (s->more && body_want(&s->body) > 0 && c->state == HTTP_RELAY)
        s->bulk = true;
    if (n > 0) {
        s->in->end += (uint32_t)n;
        s->last = ev_now(c->loop);
        return (size_t)n;
    }
    if (n == 0)
        s->eof = true;
    else if (!would_block(errno))
        s->eof = s->err = true;
    return 0;
}

/* Sends side `to` what the other side's pipe holds, or else p[0 .. len), with MSG_MORE when
 * more follows at once; the pipe goes back once drained. Returns the bytes sent, or -1
 * (errno). */
static inline ssize_t
send_to(struct http_conn *c, struct http_side *to, const void *p, size_t len, bool more)
{
    struct http_side *from = other(c, to);
    bool piped = from->pipe != NULL;
    ssize_t n = piped ? pipe_out(&from->pipe, to->fd, more)
                      : send(to->fd, p, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));

    if (n == -1)
        return -1;
    to->corked = more;
    if (piped)
        from->pipe_full = false;
    return n;
}

/* Reads what the client sent; true when the read filled all the room it had (more is
 * probably waiting). */
static bool
read_client(struct http_conn *c)
{
    ssize_t n;

    if (c->state == HTTP_DRAIN) {
        char sink[4096];

        n = recv(c->cl.fd, sink, sizeof(sink), 0);
        if (n == 0 || (n == -1 && !would_block(errno)))
            c->cl.eof = true;
        return n == (ssize_t)sizeof(sink);
    }
    if (splice_start(c, &c->cl))
        return read_pipe(c, &c->cl);
    if (c->cl.in == NULL && (c->cl.in = buf_get(&http_eng.bufs)) == NULL) {
        c->err = "no-buffer";
        c->cl.err = true;
        set_term(c, "RR");
        return false;
    }
    c->cl.in->start -= c->req_hold;     /* held bytes move along */
    http_make_room(c->cl.in, req_limit());
    c->cl.in->start += c->req_hold;
    if (c->cl.in->end >= req_limit())
        return false;
    if (recv_in(c, &c->cl, req_limit() - c->cl.in->end) > 0 && c->state == HTTP_HEAD) {
        if (!c->req_active) {
            c->req_active = true;
            c->t_req = c->cl.last;
        }
        c->got_bytes = true;
        http_idle_client_leave(c);
    }
    if (c->req_hold == 0)
        put_if_empty(&c->cl.in);
    return c->cl.more;
}

/* Whether bytes sent to the client now are followed by more at once: while the server
 * has more queued, MSG_MORE lets the kernel fill whole segments instead of sending one per
 * buffer (fewer packets, fewer wake-ups of the client). The last bytes before a close go
 * with MSG_MORE too: the shutdown that follows in this same callback then leaves as the
 * FIN of their segment, one packet less. */
static bool
more_to_client(const struct http_conn *c)
{
    return !body_is_done(&c->sv.body) ? c->sv.more : http_closing_after(c);
}

/* Sends the client what the server's pipe or buffer has cleared for it, else the page. */
bool
http_write_client(struct http_conn *c)
{
    bool piped = c->sv.pipe != NULL, page = !piped && c->sv.fwd == 0;
    const void *p = NULL;
    size_t len = 0;
    ssize_t n;

    if (page && c->page_off >= c->page_len)
        return false;
    if (page) {
        p = c->page + c->page_off;
        len = c->page_len - c->page_off;
    } else if (!piped) {                /* sv.in is empty while the pipe holds bytes */
        p = c->sv.in->data + c->sv.in->start;
        len = c->sv.fwd;
    }
    n = send_to(c, &c->cl, p, len, !page && more_to_client(c));
    if (n == -1) {
        if (!would_block(errno))
            c->cl.err = c->cl.eof = true;
        return false;
    }
    if (page) {
        c->page_off += (uint32_t)n;
    } else if (!piped) {
        c->sv.in->start += (uint32_t)n;
        c->sv.fwd -= (uint32_t)n;
        put_if_empty(&c->sv.in);
    }
    c->cl.last = ev_now(c->loop);
    return n > 0;
}

/* Reads what the server sent; true when the read filled all the room it had. */
static bool
read_server(struct http_conn *c)
{
    if (c->state == HTTP_HEAD || c->state == HTTP_DRAIN) {
        /* An idle kept connection: closed by the server, or talking out of turn. */
        http_close_server(c);
        return false;
    }
    if (splice_start(c, &c->sv))
        return read_pipe(c, &c->sv);
    if (c->sv.in == NULL && (c->sv.in = buf_get(&http_eng.bufs)) == NULL) {
        c->err = "no-buffer";
        c->sv.err = c->sv.eof = true;
        return false;
    }
    buf_compact(c->sv.in);
    if (buf_room(c->sv.in) == 0)
        return false;
    c->server_read_iter = ev_iteration(c->loop);
    if (recv_in(c, &c->sv, buf_room(c->sv.in)) > 0 && c->can_retry)
        drop_hold(c);
    put_if_empty(&c->sv.in);
    return c->sv.more;
}

/* Sends the server what the client's pipe or buffer has cleared for it. */
bool
http_write_server(struct http_conn *c)
{
    ssize_t n;

    if (!request_pending(c) || c->sv.fd < 0 || c->server_wr_err ||
        (c->state != HTTP_RELAY && c->state != HTTP_TUNNEL))
        return false;
    /* cl.in is empty while the pipe holds bytes */
    n = send_to(c, &c->sv, c->cl.pipe == NULL ? c->cl.in->data + c->cl.in->start : NULL,
                c->cl.fwd, c->cl.more && !body_is_done(&c->cl.body));
    if (n == -1) {
        if (!would_block(errno))
            c->server_wr_err = true;    /* its answer, if any, may still be readable */
        return false;
    }
    if (c->cl.fwd > 0)
        sent_to_server(c, (size_t)n);
    else
        c->sv.last = ev_now(c->loop);
    return n > 0;
}

bool
http_read_side(struct http_conn *c, struct http_side *s)
{
    return s == &c->cl ? read_client(c) : read_server(c);
}

bool
http_write_side(struct http_conn *c, struct http_side *s)
{
    return s == &c->cl ? http_write_client(c) : http_write_server(c);
}

/* Whether the watcher callback may read side s again at once: a server only while it
 * has something of ours to answer. */
bool
http_may_read_again(const struct http_conn *c, const struct http_side *s)
{
    if (s == &c->cl)
        return c->state != HTTP_CLOSED;
    return c->state == HTTP_RELAY || c->state == HTTP_TUNNEL;
}

/* Sends what MSG_MORE held back: setting TCP_NODELAY (again) pushes pending frames. Done
 * before going back to the loop, as a read that filled its buffer may have taken the last
 * byte there was, and nothing would come to push the held frame out. */
void
http_uncork(struct http_conn *c)
{
    struct http_side *sides[2] = { &c->cl, &c->sv };
    int one = 1;

    for (int i = 0; i < 2; i++) {
        if (sides[i]->corked && sides[i]->fd >= 0) {
            setsockopt(sides[i]->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            sides[i]->corked = false;
        }
    }
}
