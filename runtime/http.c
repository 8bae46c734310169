#include "http.h"

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
#include "body.h"
#include "buf.h"
#include "clock.h"
#include "httphead.h"
#include "log.h"
#include "reply.h"
#include "rewrite.h"
#include "stats.h"
#include "upstream.h"

/* Room kept free at the end of a client buffer while it fills, so that X-Forwarded-For and
 * X-Forwarded-Proto (at most 89 bytes) and a PROXY header (at most PP_MAX bytes) can be
 * added to a head in place. */
#define RESERVE 256
#define DEFAULT_MAX_HEAD (16 * 1024)
#define LINGER_MS 1000              /* after the last answer: read and drop for this long */
#define FREE_BUFS_MAX 256
#define RUN_ROUNDS 16               /* process/flush rounds per event, a safety bound */
#define READ_ROUNDS 8               /* reads per event while each fills its buffer */
#define IDLE_TIMEOUT_MS 30000       /* at most this long (and at most timeout server) */

enum http_state {
    HTTP_HEAD = 0,                  /* reading the next request head */
    HTTP_CONNECT,                   /* connecting to the chosen server */
    HTTP_RELAY,                     /* request up, response down */
    HTTP_TUNNEL,                    /* after 101: opaque bytes both ways */
    HTTP_DRAIN,                     /* last bytes to the client, then close */
    HTTP_CLOSED
};

/* What the log line quotes of a request: held only while it is under way, so an idle
 * keep-alive connection does not carry it. */
struct req_text {
    char method[16];
    char path[LOG_PEER_MAX];
    char host[LOG_PEER_MAX];
    uint32_t method_len, path_len, host_len;    /* as sent; only the first bytes are kept */
};

/* One side of a connection, client or server, and what it sends: the client's requests
 * go to the server, the server's responses to the client. */
struct side {
    int fd;                         /* -1: none */
    struct ev_io io;
    /* Bytes read from this side: fwd bytes at the front of in belong to the current
     * message and may go to the other side; bytes after them are not framed yet (body,
     * or the next message). The server's are followed by the table's error page, if any. */
    struct buf *in;
    uint32_t fwd;
    /* Or a body spliced from this side, on its way to the other: taken once the body comes
     * in bulk and the buffer before it is empty, given back when drained (splice_start). */
    struct buf_pipe *pipe;
    struct body body;               /* of the message under way; the server's is BODY_HEAD
                                     * until its final head */
    struct hh_gate gate;            /* how far its coming head was looked at */
    ev_tstamp last;                 /* last read from or write to this side */
    bool eof, err;                  /* it sent its FIN; its socket failed */
    bool more;                      /* the last read from it filled the room there was */
    bool bulk;                      /* a read of the current body filled the buffer */
    bool pipe_full;                 /* the pipe took no more: read again once it drains */
    bool corked;                    /* sent to with MSG_MORE, not pushed yet */
    bool shut;                      /* tunnel: shutdown(SHUT_WR) sent to it */
};

struct http_conn {
    struct http_conn *prev, *next;  /* every live connection, for quiesce and close_all */
    struct http_conn *idle_older, *idle_newer;  /* while waiting idle between requests */
    bool idle_listed;               /* in that list (H.idle_cli_*) */
    struct ev_loop *loop;
    const struct yt_listener *l;
    enum http_state state;
    struct side cl, sv;             /* the client; the server (fd -1: none) */
    struct ev_timer timer;
    ev_tstamp timer_at;             /* when the timer fires, while active */
    const char *page;
    uint32_t page_len, page_off;

    uint64_t id;
    union yt_addr peer;
    char peer_text[INET6_ADDRSTRLEN + 8];   /* peer as the log line writes it */
    uint32_t peer_text_len;
    uint32_t max_head;

    /* the current request */
    uint32_t site, pool;
    struct ups_try up;              /* server, tries */
    uint32_t log_server;            /* server of the current request, for its log line */
    uint32_t log_reuse;             /* requests its server connection carried before it */
    uint32_t nreq;                  /* heads parsed on this connection */
    uint32_t server_nreq;           /* requests sent on the current server connection */
    uint32_t req_hold;              /* sent request bytes kept before req->start, for a retry */
    int status;                     /* final status sent or being sent; 0: none yet */
    uint64_t bytes_in, bytes_out;
    ev_tstamp t_req, t_head, t_conn_start, t_conn_done, t_resp, t_linger;
    const char *err;                /* why it failed, for the log line */
    char term[2];                   /* HAProxy-like termination state */
    struct req_text *text;          /* of the request under way, for its log line */

    bool req_active;                /* a request (or the wait for the first) is under way */
    bool got_bytes;                 /* it has sent at least one byte */
    bool logged;
    bool req_keep_alive, req_is_head, req_upgrade;
    uint8_t req_minor;              /* HTTP/1.0 or HTTP/1.1 */
    bool resp_keep_alive;
    bool server_wr_err, server_dirty, server_reused;
    bool server_idle;               /* sfd is a clean kept connection between requests */
    bool retry_ok;                  /* idempotent, without a body: may be sent again */
    bool can_retry;                 /* sent on a reused connection, no answer byte yet */
    bool retried;                   /* this request already went to a second connection */
    bool close_stripped;            /* "close" taken out of the request's Connection */
    bool close_after;               /* answer this response, then close */
    bool lingering;
    unsigned server_read_iter;      /* loop iteration of the last read from the server */
};

static struct {
    const struct yt_table *t;
    struct buf_pool bufs;
    struct buf_pipe_pool pipes;
    bool splice_off;                /* splice(2) refused by this kernel: buffers only */
    struct upstream ups;            /* health; the idle pool */
    struct http_conn *list;
    bool quiescing;
    /* Keep-alive clients waiting for their next request with nothing buffered nor owed,
     * oldest first: at maxconn the oldest gives way to a new client (http_reclaim_idle). */
    struct http_conn *idle_cli_oldest, *idle_cli_newest;
} H;

static void io_cb(struct ev_loop *loop, struct ev_io *w, int revents);
static void timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents);
static void connect_send(struct http_conn *c);
static void connect_next(struct http_conn *c);

/* ---- small helpers ---- */

static inline uint32_t
req_limit(void)
{
    return H.bufs.cap - RESERVE;
}

/* Request bytes framed and not yet sent to the server, in the buffer or the pipe (a
 * pipe is held only with bytes in it). */
static inline bool
request_pending(const struct http_conn *c)
{
    return c->cl.fwd > 0 || c->cl.pipe != NULL;
}

static inline bool
output_pending(const struct http_conn *c)
{
    return c->sv.fwd > 0 || c->sv.pipe != NULL || c->page_off < c->page_len;
}

static void
set_term(struct http_conn *c, const char *term)
{
    if (c->term[0] == '-' || c->term[0] == '\0') {
        c->term[0] = term[0];
        c->term[1] = term[1];
    }
}

static void
set_io(struct ev_loop *loop, struct ev_io *w, int fd, int events)
{
    if (fd < 0)
        events = 0;
    if (ev_is_active(w)) {
        if (w->fd == fd && (w->events & (EV_READ | EV_WRITE)) == events)
            return;
        ev_io_stop(loop, w);
    }
    if (events != 0) {
        ev_io_set(w, fd, events);
        ev_io_start(loop, w);
    }
}

/* Moves the pending bytes of b to the front when they reach limit or start passed half. */
static void
make_room(struct buf *b, uint32_t limit)
{
    size_t n = buf_len(b);

    if (b->start == 0 || (b->end < limit && b->start < b->cap / 2))
        return;
    memmove(b->data, b->data + b->start, n);
    b->start = 0;
    b->end = (uint32_t)n;
}

static void
put_if_empty(struct buf **b)
{
    if (*b != NULL && buf_is_empty(*b)) {
        buf_put(*b);
        *b = NULL;
    }
}

static void
remember(char *dst, size_t cap, uint32_t *len_out, const void *src, size_t len)
{
    memcpy(dst, src, len < cap ? len : cap);
    *len_out = (uint32_t)len;
}

/* ---- keep-alive clients waiting idle ---- */

static void
idle_client_enter(struct http_conn *c)
{
    if (c->idle_listed)
        return;
    c->idle_listed = true;
    c->idle_newer = NULL;
    c->idle_older = H.idle_cli_newest;
    if (H.idle_cli_newest != NULL)
        H.idle_cli_newest->idle_newer = c;
    else
        H.idle_cli_oldest = c;
    H.idle_cli_newest = c;
}

static void
idle_client_leave(struct http_conn *c)
{
    if (!c->idle_listed)
        return;
    c->idle_listed = false;
    if (c->idle_older != NULL)
        c->idle_older->idle_newer = c->idle_newer;
    else
        H.idle_cli_oldest = c->idle_newer;
    if (c->idle_newer != NULL)
        c->idle_newer->idle_older = c->idle_older;
    else
        H.idle_cli_newest = c->idle_older;
    c->idle_older = c->idle_newer = NULL;
}

/* ---- the log line ---- */

static void
log_request(struct http_conn *c)
{
    const struct yt_table *t = H.t;
    struct alog a;
    ev_tstamp now = ev_now(c->loop);
    ev_tstamp after_head = c->t_conn_done > 0 ? c->t_conn_done : c->t_head;
    static const struct req_text none;  /* no head parsed (or no memory for its text) */
    const struct req_text *tx = c->text != NULL ? c->text : &none;
    struct yt_str no_name = { 0, 0 };
    char term[2];

    if (c->logged || !c->req_active)
        return;
    c->logged = true;
    term[0] = c->term[0] ? c->term[0] : '-';
    term[1] = c->term[1] ? c->term[1] : '-';
    stats_end(c->l, c->pool, c->log_server, c->bytes_in, c->bytes_out, term);
    if (!c->got_bytes && c->status == 0 && (c->l->flags & YT_LISTENER_DONTLOGNULL))
        return;
    alog_begin(&a);
    alog_lit(&a, "conn=");
    alog_u64(&a, c->id);
    alog_lit(&a, " client=");
    alog_mem(&a, c->peer_text, c->peer_text_len);
    alog_lit(&a, " l7 listener=");
    alog_mem(&a, t->blob + c->l->name.off, c->l->name.len);
    alog_lit(&a, " host=");
    alog_peer_bytes(&a, tx->host, sizeof(tx->host), tx->host_len);
    alog_lit(&a, " site=");
    alog_name(&a, t->blob, c->site != YT_NONE ? t->sites[c->site].name : no_name);
    alog_lit(&a, " server=");
    alog_name(&a, t->blob, c->log_server != YT_NONE ? t->servers[c->log_server].name : no_name);
    alog_lit(&a, " method=");
    alog_peer_bytes(&a, tx->method, sizeof(tx->method), tx->method_len);
    alog_lit(&a, " path=");
    alog_peer_bytes(&a, tx->path, sizeof(tx->path), tx->path_len);
    alog_lit(&a, " status=");
    if (c->status > 0)
        alog_u64(&a, (uint64_t)c->status);
    else
        alog_lit(&a, "-");
    alog_lit(&a, " in=");
    alog_u64(&a, c->bytes_in);
    alog_lit(&a, " out=");
    alog_u64(&a, c->bytes_out);
    alog_lit(&a, " t=");
    alog_long(&a, clock_ms_between(c->t_req, c->t_head));
    alog_lit(&a, "/");
    alog_long(&a, clock_ms_between(c->t_conn_start, c->t_conn_done));
    alog_lit(&a, "/");
    alog_long(&a, clock_ms_between(after_head, c->t_resp));
    alog_lit(&a, "/");
    alog_long(&a, clock_ms_between(c->t_req, now));
    alog_lit(&a, " reuse=");
    if (c->log_reuse != YT_NONE)
        alog_u64(&a, c->log_reuse);
    else
        alog_lit(&a, "-");
    alog_lit(&a, " term=");
    alog_mem(&a, term, 2);
    if (c->err != NULL)
        alog_err(&a, c->err, 0);
    if (c->retried)
        alog_lit(&a, " retried");
    alog_emit(&a);
}

/* Starts the bookkeeping of the next request on a persistent connection. */
static void
reset_request(struct http_conn *c)
{
    c->site = c->pool = c->log_server = c->log_reuse = YT_NONE;
    c->up.tries = 0;
    c->cl.body = c->sv.body = (struct body){ .phase = BODY_DONE };
    c->status = 0;
    c->bytes_in = c->bytes_out = 0;
    c->t_req = c->t_head = c->t_conn_start = c->t_conn_done = c->t_resp = 0;
    c->err = NULL;
    c->term[0] = c->term[1] = '-';
    free(c->text);
    c->text = NULL;
    c->req_active = c->got_bytes = c->logged = false;
    c->req_keep_alive = c->req_is_head = c->req_upgrade = c->resp_keep_alive = false;
    c->server_reused = false;
    c->retry_ok = c->can_retry = c->retried = c->close_stripped = false;
    c->req_hold = 0;
    c->cl.gate = c->sv.gate = (struct hh_gate){ 0 };
    c->cl.bulk = c->sv.bulk = false;
    put_if_empty(&c->cl.in);
    c->page = NULL;
    c->page_len = c->page_off = 0;
}

/* Ends the bookkeeping of a request answered on a persistent connection; bytes already
 * buffered are the next request's. */
static void
next_request(struct http_conn *c)
{
    reset_request(c);
    if (buf_len(c->cl.in) > 0) {
        c->req_active = c->got_bytes = true;
        c->t_req = ev_now(c->loop);
    }
}

/* ---- server side ---- */

static void
close_server(struct http_conn *c)
{
    if (c->sv.fd >= 0) {
        set_io(c->loop, &c->sv.io, -1, 0);
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
static bool
server_is_alive(const struct http_conn *c)
{
    char b;

    if (!ev_is_active(&c->sv.io) || ev_is_pending(&c->sv.io))
        return false;
    if (ev_iteration(c->loop) != c->server_read_iter)
        return true;
    return recv(c->sv.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
           (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* The client is done with its server connection: parks it when it is clean and idle
 * and the process is not stopping; else closes it. */
static void
release_server(struct http_conn *c)
{
    if (c->sv.fd < 0)
        return;
    if (!c->server_idle || c->up.server == YT_NONE || H.quiescing || ev_is_pending(&c->sv.io)) {
        close_server(c);
        return;
    }
    set_io(c->loop, &c->sv.io, -1, 0);
    ups_idle_park(&H.ups, c->loop, c->sv.fd, c->up.server, c->server_nreq);
    c->sv.fd = -1;
    close_server(c);                /* resets the server side of c */
}

/* ---- answers of our own ---- */

/* Stops serving requests: the server goes, the client gets what is pending, then the
 * connection closes (see on_drain). */
static void
enter_drain(struct http_conn *c)
{
    close_server(c);
    if (c->cl.in != NULL) {
        buf_put(c->cl.in);
        c->cl.in = NULL;
    }
    buf_pipe_put(c->cl.pipe);         /* the server is gone: its bytes are dropped */
    c->cl.pipe = NULL;
    c->cl.fwd = c->req_hold = 0;
    c->can_retry = false;
    c->state = HTTP_DRAIN;
}

static const struct yt_errpage *
find_page(int status)
{
    for (uint32_t i = 0; i < H.t->error_count; i++)
        if (H.t->errors[i].status == status)
            return &H.t->errors[i];
    return NULL;
}

/* Answers the current request with the error page for status and closes after it. If the
 * final response head already went out, only closes. */
static void
answer_error(struct http_conn *c, int status, const char *err, const char *term)
{
    const struct yt_errpage *p;

    if (c->err == NULL)
        c->err = err;
    set_term(c, term);
    close_server(c);
    if (c->status != 0) {           /* too late for a page: the client has a head */
        enter_drain(c);
        return;
    }
    c->status = status;
    p = find_page(status);
    if (p != NULL) {
        c->page = H.t->blob + p->response.off;
        c->page_len = p->response.len;
        c->page_off = 0;
        c->bytes_out += p->response.len;
    } else {
        if (c->sv.in == NULL)
            c->sv.in = buf_get(&H.bufs);
        if (c->sv.in != NULL) {
            size_t n;

            buf_compact(c->sv.in);
            n = reply_status_page((char *)c->sv.in->data + c->sv.in->end, buf_room(c->sv.in),
                                  status);
            c->sv.in->end += (uint32_t)n;
            c->sv.fwd += (uint32_t)n;
            c->bytes_out += n;
        }
    }
    enter_drain(c);
}

/* Answers a redirect listener's request in place; the head is data[0 .. head_len). */
static void
answer_redirect(struct http_conn *c, const struct hh_request *r, const uint8_t *data,
                int status)
{
    const struct span *path = &r->path;
    /* A body would have to be read and dropped to find the next request; closing is
     * simpler and leaves no doubt (the client may not send it after a final answer). */
    bool keep = r->keep_alive && r->body == HH_BODY_NONE && !H.quiescing && !c->cl.eof;
    size_t n;

    if (r->host_len == 0) {
        answer_error(c, 400, "redirect-without-host", "PR");
        return;
    }
    if (c->sv.in == NULL && (c->sv.in = buf_get(&H.bufs)) == NULL) {
        c->err = "no-buffer";
        set_term(c, "RR");
        c->state = HTTP_CLOSED;
        return;
    }
    buf_compact(c->sv.in);
    n = reply_redirect((char *)c->sv.in->data + c->sv.in->end, buf_room(c->sv.in), status,
                       r->host, r->host_len, c->l->redirect_port,
                       (const char *)data + path->off, path->len, r->version_minor, keep);
    if (n == 0) {
        answer_error(c, 400, "redirect-target", "PR");
        return;
    }
    c->sv.in->end += (uint32_t)n;
    c->sv.fwd += (uint32_t)n;
    c->status = status;
    c->cl.in->start += (uint32_t)r->head_len;
    c->t_resp = ev_now(c->loop);
    c->bytes_out += n;
    if (!keep) {
        enter_drain(c);             /* logged once sent, when the connection ends */
        return;
    }
    /* The answer is complete in the buffer: log it now, then read the next head. */
    log_request(c);
    next_request(c);
}

/* ---- request framing ---- */

static void
frame_request(struct http_conn *c)
{
    while (!body_is_done(&c->cl.body) && c->cl.in != NULL && buf_len(c->cl.in) > c->cl.fwd) {
        size_t used;
        enum hh_result r = body_frame(&c->cl.body, c->cl.in->data + c->cl.in->start + c->cl.fwd,
                                      buf_len(c->cl.in) - c->cl.fwd, &used);

        if (r != HH_OK && r != HH_NEED_MORE) {
            /* Never pass on what we cannot frame: the server may be reading it. */
            answer_error(c, hh_result_status(r), hh_result_str(r), "PD");
            return;
        }
        c->cl.fwd += (uint32_t)used;
        c->bytes_in += used;
    }
}

/* The request head at the front of req goes to the server as rw_request() makes it, with
 * the proxy's X-Forwarded-* when fwd_for. Returns the head's new length, or 0 when what it
 * adds does not fit. It fits in RESERVE: the framing and Connection lines replace the
 * client's (a byte longer at most, for a missing space), X-Forwarded-* take at most 89
 * bytes, a PROXY header at most PP_MAX. */
static size_t
forward_request_head(struct http_conn *c, const struct hh_request *r, bool fwd_for)
{
    char add[RW_REQUEST_ADD_MAX], ip[INET6_ADDRSTRLEN];
    struct rw_request_opts o = { c->req_upgrade, c->close_stripped, fwd_for ? ip : NULL };
    struct buf *b = c->cl.in;
    size_t n, tail, len;
    bool added;

    if (fwd_for)
        alog_addr(&c->peer, ip, sizeof(ip), false);
    n = rw_request_fields(r, &o, add, sizeof(add));
    if (b->end + n > b->cap)
        make_room(b, 0);
    tail = buf_len(b) - r->head_len;
    len = rw_request(b->data + b->start, tail, buf_room(b), r, &o, add, n, &added);
    b->end = b->start + (uint32_t)(len + tail);
    return added ? len : 0;
}

/* The response head at the front of what resp has not cleared goes to the client as
 * rw_response() makes it. Returns the head's new length; *added says whether what it adds
 * found room (a 101 needs its Connection line, a normalised length its Content-Length). */
static size_t
forward_response_head(struct http_conn *c, const struct hh_response *rs, bool *added)
{
    struct buf *b = c->sv.in;
    bool keep = c->req_keep_alive && rs->keep_alive && !H.quiescing;
    bool http10 = c->req_minor == 0 || rs->version_minor == 0;
    size_t tail, len;

    if (buf_room(b) < RW_RESPONSE_ADD_MAX)
        buf_compact(b);
    tail = buf_len(b) - c->sv.fwd - rs->head_len;
    len = rw_response(b->data + b->start + c->sv.fwd, tail, buf_room(b), rs, keep, http10,
                      added);
    b->end = b->start + c->sv.fwd + (uint32_t)(len + tail);
    return len;
}

/* Methods a client may send again after a failure (RFC 9110 §9.2.2); case-sensitive. */
static bool
is_idempotent(const uint8_t *m, size_t len)
{
    static const char *const names[] = { "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && memcmp(m, names[i], len) == 0)
            return true;
    return false;
}

/* ---- connecting ---- */

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

/* The request goes out on the kept connection sfd to c->up.server, which has carried
 * server_nreq requests so far. */
static void
reuse_server(struct http_conn *c)
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
static void
retry_request(struct http_conn *c)
{
    c->cl.in->start -= c->req_hold;
    c->cl.fwd += c->req_hold;
    c->req_hold = 0;
    c->can_retry = false;
    c->retried = true;
    close_server(c);
    c->up.tries = 0;
    c->up.server = YT_NONE;
    connect_next(c);
}

static void
connected(struct http_conn *c)
{
    const struct yt_server *s = &H.t->servers[c->up.server];

    c->t_conn_done = ev_now(c->loop);
    c->sv.last = c->t_conn_done;
    ups_server_up(&H.ups, c->up.server);
    c->state = HTTP_RELAY;
    if (s->flags & (YT_SERVER_PROXY_V1 | YT_SERVER_PROXY_V2)) {
        size_t n = c->cl.in != NULL ? ups_prepend_proxy(c->cl.in, s->flags, c->cl.fd, &c->peer) : 0;

        if (n == 0)
            answer_error(c, 503, "proxy-header", "PC");
        c->cl.fwd += (uint32_t)n;
    }
}

/* Connects to the next server of the pool that is up, or takes a kept connection to it;
 * 503 when there is none left. */
static void
connect_next(struct http_conn *c)
{
    unsigned flags = UPS_LOWAT | (c->retried ? 0 : UPS_TAKE_IDLE);
    uint32_t tries = c->up.tries;
    enum ups_result r;
    int fd;

    r = ups_connect_next(&H.ups, c->loop, c->pool, &c->up, flags, &fd, &c->server_nreq);
    if (c->up.tries != tries)
        c->log_server = c->up.server;
    switch (r) {
    case UPS_REUSED:
        c->sv.fd = fd;
        reuse_server(c);
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
        answer_error(c, 503, "socket", "RC");
        return;
    case UPS_NO_SERVER:
        break;
    }
    answer_error(c, 503, "no-server", "SC");
}

/* The connect in progress failed (refused, reset, timed out): the next server, if any. */
static void
connect_failed(struct http_conn *c, bool timed_out)
{
    set_io(c->loop, &c->sv.io, -1, 0);
    close(c->sv.fd);
    c->sv.fd = -1;
    ups_server_down(&H.ups, c->loop, c->up.server);
    c->err = timed_out ? "connect-timeout" : "connect-refused";
    set_term(c, timed_out ? "sC" : "SC");
    connect_next(c);
    if (c->state != HTTP_DRAIN) {       /* another server took it */
        c->err = NULL;
        c->term[0] = c->term[1] = '-';
    }
}

/* The connect in progress ended (writable) or timed out (timed_out). */
static void
connect_done(struct http_conn *c, bool timed_out)
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
    const struct yt_server *s = &H.t->servers[c->up.server];
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

/* ---- the request head ---- */

static void
start_forward(struct http_conn *c, const struct hh_request *r, uint32_t pool)
{
    const struct yt_pool *p = &H.t->pools[pool];
    bool fwd_for = (c->l->flags & YT_LISTENER_FORWARDED_FOR) ||
                   (c->site != YT_NONE && (H.t->sites[c->site].flags & YT_SITE_FORWARDED_FOR));

    c->pool = pool;
    c->retry_ok = r->body == HH_BODY_NONE &&
                  is_idempotent(c->cl.in->data + c->cl.in->start + r->method.off, r->method.len);
    /* WebSocket only, and never on a redirect listener (its ACME carve-out included). */
    c->req_upgrade = r->upgrade && c->l->mode == YT_MODE_HTTP;
    /* A client that closes after each request need not close the server's connection. */
    c->close_stripped = !r->keep_alive && r->version_minor == 1 && !c->req_upgrade &&
                        ups_idle_enabled(&H.ups) && !H.quiescing;
    c->req_keep_alive = r->keep_alive;
    c->req_is_head = r->is_head;
    c->req_minor = (uint8_t)r->version_minor;
    c->sv.body.phase = BODY_HEAD;
    body_start(&c->cl.body, r->body, r->content_length);
    c->bytes_in = r->head_len;
    c->cl.fwd = (uint32_t)forward_request_head(c, r, fwd_for);
    if (c->cl.fwd == 0) {
        answer_error(c, 431, "head-rewrite", "PR");
        return;
    }
    frame_request(c);
    if (c->state != HTTP_HEAD)
        return;
    if (c->sv.fd >= 0 && c->up.server >= p->first && c->up.server < p->first + p->count &&
        !c->server_dirty && server_is_alive(c)) {
        reuse_server(c);
        return;
    }
    release_server(c);
    c->up.server = YT_NONE;
    connect_next(c);
}

static void
on_head(struct http_conn *c)
{
    struct hh_request r;
    struct yt_decision d;
    enum hh_result res;
    const uint8_t *data;
    size_t len;

    if (output_pending(c))          /* answers go out in order */
        return;
    if (c->cl.err) {
        set_term(c, "CR");
        c->state = HTTP_CLOSED;
        return;
    }
    len = buf_len(c->cl.in);
    if (len == 0) {
        /* Stopping: a connection between requests closes; a new one is still served (its
         * request may be on the way, see http_quiesce). */
        if (c->cl.eof || (H.quiescing && c->nreq > 0)) {
            if (c->cl.eof)
                set_term(c, "CR");
            if (!c->got_bytes)      /* nothing asked: no request to log */
                c->req_active = c->nreq == 0;
            c->state = HTTP_CLOSED;
        } else if (c->nreq > 0) {
            idle_client_enter(c);   /* a keep-alive client between requests */
        }
        return;
    }
    data = c->cl.in->data + c->cl.in->start;
    res = hh_parse_request_gated(&c->cl.gate, data, len, c->max_head, &r);
    if (res == HH_NEED_MORE) {
        if (len >= c->max_head) {
            res = hh_head_too_large(&c->cl.gate);
        } else {
            if (c->cl.eof) {
                c->err = "truncated-head";
                set_term(c, "CR");
                c->state = HTTP_CLOSED;
            }
            return;
        }
    }
    if (res != HH_OK) {
        c->bytes_in = len;
        answer_error(c, hh_result_status(res), hh_result_str(res), "PR");
        return;
    }
    c->t_head = ev_now(c->loop);
    c->bytes_in = r.head_len;
    c->nreq++;
    if (c->text != NULL || (c->text = malloc(sizeof(*c->text))) != NULL) {
        struct req_text *tx = c->text;

        remember(tx->method, sizeof(tx->method), &tx->method_len, data + r.method.off,
                 r.method.len);
        remember(tx->path, sizeof(tx->path), &tx->path_len, data + r.target.off, r.target.len);
        remember(tx->host, sizeof(tx->host), &tx->host_len, r.host, r.host_len);
    }
    if (r.is_connect) {
        answer_error(c, 501, "connect-method", "PR");
        return;
    }
    d = yt_resolve(H.t, c->l, r.host, r.host_len, (const char *)data + r.path.off, r.path.len);
    c->site = d.site;
    switch (d.action) {
    case YT_ACT_POOL:
        start_forward(c, &r, d.pool);
        break;
    case YT_ACT_REDIRECT:
        answer_redirect(c, &r, data, d.status);
        break;
    case YT_ACT_STATUS:
    case YT_ACT_ALERT:
    default:
        answer_error(c, d.status ? d.status : 503, "no-route", "PR");
        break;
    }
}

/* ---- the response ---- */

static void
bad_response(struct http_conn *c, const char *err, const char *term)
{
    answer_error(c, 502, err, term);
}

/* Frames the response body in the avail bytes at p, not yet cleared for the client.
 * Returns whether to go on framing (what follows the body may be looked at). */
static bool
frame_response_body(struct http_conn *c, uint8_t *p, size_t avail)
{
    bool until_close = c->sv.body.phase == BODY_CLOSE;
    size_t used;
    enum hh_result r;

    if (avail == 0 && !until_close) {
        if (c->sv.eof) {
            c->err = "truncated-response";
            set_term(c, "SD");
            enter_drain(c);
        }
        return false;
    }
    r = body_frame(&c->sv.body, p, avail, &used);
    c->sv.fwd += (uint32_t)used;
    c->bytes_out += used;
    if (until_close) {
        if (c->sv.eof) {
            c->sv.body.phase = BODY_DONE;
            c->close_after = true;
        }
        return false;
    }
    if (r != HH_OK && r != HH_NEED_MORE) {
        /* The head is out; the client can only see the body end early. */
        c->err = hh_result_str(r);
        set_term(c, "PD");
        enter_drain(c);
        return false;
    }
    return true;
}

static void
frame_response(struct http_conn *c)
{
    for (;;) {
        size_t avail = c->sv.in != NULL ? buf_len(c->sv.in) - c->sv.fwd : 0;
        uint8_t *p = c->sv.in != NULL ? c->sv.in->data + c->sv.in->start + c->sv.fwd
                                           : NULL;
        struct hh_response rs;
        enum hh_result r;
        bool added;

        switch (c->sv.body.phase) {
        case BODY_HEAD:
            if (avail == 0) {
                if (c->sv.eof && c->can_retry)
                    retry_request(c);
                else if (c->sv.eof)
                    bad_response(c, c->sv.err ? "server-reset" : "server-closed", "SH");
                return;
            }
            r = hh_parse_response_gated(&c->sv.gate, p, avail, c->sv.in->cap, c->req_is_head,
                                        &rs);
            if (r != HH_NEED_MORE)
                c->sv.gate = (struct hh_gate){ 0 };   /* the next head, if any, is new */
            if (r == HH_NEED_MORE) {
                if (c->sv.eof)
                    bad_response(c, "truncated-response-head", "SH");
                else if (avail == c->sv.in->cap)
                    bad_response(c, "response-head-too-large", "PH");
                return;
            }
            if (r != HH_OK) {
                bad_response(c, hh_result_str(r), "PH");
                return;
            }
            if (rs.status == 101 && (!c->req_upgrade || !rs.hop.upgrade_websocket)) {
                bad_response(c, "unexpected-101", "PH");
                return;
            }
            if (rs.status < 200 && c->req_minor == 0) {
                /* No 1xx to an HTTP/1.0 client (RFC 9110 §15.2): drop it. */
                memmove(p, p + rs.head_len, avail - rs.head_len);
                c->sv.in->end -= (uint32_t)rs.head_len;
                continue;
            }
            rs.head_len = forward_response_head(c, &rs, &added);
            if (!added && (rs.status == 101 || rs.hop.cl_normalise)) {
                bad_response(c, "response-head-too-large", "PH");
                return;
            }
            if (rs.status == 101) {
                c->status = 101;
                c->t_resp = ev_now(c->loop);
                c->sv.fwd += (uint32_t)rs.head_len;
                c->bytes_out += rs.head_len;
                c->state = HTTP_TUNNEL;
                return;
            }
            c->sv.fwd += (uint32_t)rs.head_len;
            c->bytes_out += rs.head_len;
            if (rs.status < 200)    /* interim (100 Continue, 103): the final one follows */
                continue;
            c->status = rs.status;
            c->t_resp = ev_now(c->loop);
            c->resp_keep_alive = rs.keep_alive;
            body_start(&c->sv.body, rs.body, rs.content_length);
            if (rs.body == HH_BODY_CLOSE || rs.body == HH_BODY_TUNNEL)
                c->resp_keep_alive = false;
            break;
        case BODY_LENGTH:
        case BODY_CHUNKED:
        case BODY_CLOSE:
            if (!frame_response_body(c, p, avail))
                return;
            break;
        case BODY_DONE:
        default:
            if (avail > 0 || c->sv.eof)
                c->server_dirty = true;     /* bytes nobody asked for: do not reuse */
            return;
        }
    }
}

/* The exchange under way is the connection's last. */
static bool
closing_after(const struct http_conn *c)
{
    return !c->req_keep_alive || !c->resp_keep_alive || c->close_after || H.quiescing;
}

/* The response is complete and sent: log, then the next request or the end. */
static void
exchange_end(struct http_conn *c)
{
    bool keep = !closing_after(c) && body_is_done(&c->cl.body) && !request_pending(c);
    /* The server was asked to keep the connection, agreed, and is between messages. */
    bool server_keep = (c->req_keep_alive || c->close_stripped) && c->resp_keep_alive &&
                       body_is_done(&c->cl.body) && !request_pending(c) && !c->close_after &&
                       !c->req_upgrade && !c->sv.eof && !c->server_dirty &&
                       !c->server_wr_err && !H.quiescing;

    log_request(c);
    c->server_idle = server_keep;
    if (!keep) {
        release_server(c);          /* to the idle pool, or closed */
        enter_drain(c);
        return;
    }
    if (!server_keep)
        close_server(c);
    next_request(c);
    c->state = HTTP_HEAD;
}

static void
on_relay(struct http_conn *c)
{
    if (c->cl.err) {
        c->err = "client-reset";
        set_term(c, c->status ? "CD" : "CH");
        c->state = HTTP_CLOSED;
        return;
    }
    frame_request(c);
    if (c->state != HTTP_RELAY && c->state != HTTP_CONNECT)
        return;
    if (c->cl.eof && !body_is_done(&c->cl.body) && buf_len(c->cl.in) <= c->cl.fwd) {
        c->err = "client-closed-in-body";
        set_term(c, "CD");
        c->state = HTTP_CLOSED;
        return;
    }
    if (c->state != HTTP_RELAY)
        return;
    frame_response(c);
    if (c->state != HTTP_RELAY)
        return;
    if (body_is_done(&c->sv.body) && !output_pending(c))
        exchange_end(c);
}

static void
on_tunnel(struct http_conn *c)
{
    if (c->cl.err || c->sv.err || c->server_wr_err) {
        set_term(c, c->cl.err ? "CD" : "SD");
        c->state = HTTP_CLOSED;
        return;
    }
    if (c->cl.in != NULL) {
        c->bytes_in += buf_len(c->cl.in) - c->cl.fwd;
        c->cl.fwd = (uint32_t)buf_len(c->cl.in);
    }
    if (c->sv.in != NULL) {
        c->bytes_out += buf_len(c->sv.in) - c->sv.fwd;
        c->sv.fwd = (uint32_t)buf_len(c->sv.in);
    }
    if (c->cl.eof && !request_pending(c) && !c->sv.shut) {
        shutdown(c->sv.fd, SHUT_WR);
        c->sv.shut = true;
    }
    if (c->sv.eof && c->sv.fwd == 0 && !c->cl.shut) {
        shutdown(c->cl.fd, SHUT_WR);
        c->cl.shut = true;
    }
    if (c->cl.shut && c->sv.shut)
        c->state = HTTP_CLOSED;
}

static void
on_drain(struct http_conn *c)
{
    if (c->cl.err) {
        c->state = HTTP_CLOSED;
        return;
    }
    if (output_pending(c))
        return;
    if (!c->lingering) {
        /* Closing with unread input would reset the connection and could destroy the
         * answer in flight; half-close, then read and drop for a moment (RFC 9112 §9.6). */
        shutdown(c->cl.fd, SHUT_WR);
        c->lingering = true;
        c->t_linger = ev_now(c->loop);
    }
    if (c->cl.eof)
        c->state = HTTP_CLOSED;
}

static void
process(struct http_conn *c)
{
    for (int round = 0; round < RUN_ROUNDS; round++) {
        enum http_state before = c->state;

        switch (c->state) {
        case HTTP_HEAD:
            on_head(c);
            break;
        case HTTP_CONNECT:
            if (c->cl.err) {
                set_term(c, "CC");
                c->state = HTTP_CLOSED;
            } else {
                frame_request(c);
            }
            break;
        case HTTP_RELAY:
            on_relay(c);
            break;
        case HTTP_TUNNEL:
            on_tunnel(c);
            break;
        case HTTP_DRAIN:
            on_drain(c);
            break;
        case HTTP_CLOSED:
            return;
        }
        if (c->state == before)
            return;
    }
}

/* ---- I/O ---- */

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
        H.splice_off = true;
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

static bool read_side(struct http_conn *c, struct side *s);

static bool
would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static struct side *
other(struct http_conn *c, const struct side *s)
{
    return s == &c->cl ? &c->sv : &c->cl;
}

/* A body relayed as it comes (a Content-Length, or until the server closes) goes from
 * side s through a pipe once a read has filled the buffer with it and the buffer has
 * nothing left before it: the order of bytes is kept, and heads, chunked bodies and small
 * answers stay on the buffer, where they are framed. A request body waits while bytes are
 * held for a retry or the server takes no more. Says whether s->pipe is in use. */
static bool
splice_start(struct http_conn *c, struct side *s)
{
    if (s->pipe != NULL)
        return true;
    if (!s->bulk || H.splice_off || c->state != HTTP_RELAY || buf_len(s->in) > 0 ||
        body_want(&s->body) == 0 || (s == &c->cl && (c->req_hold > 0 || c->server_wr_err)))
        return false;
    s->pipe = buf_pipe_get(&H.pipes);
    s->pipe_full = false;
    return s->pipe != NULL;
}

/* Splices the body from side s into its pipe, never past its end: what follows stays in
 * the socket, to be read (and judged) as before. Returns whether it took all it asked
 * for (s->more). */
static bool
read_pipe(struct http_conn *c, struct side *s)
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
        return read_side(c, s);
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
static size_t
recv_in(struct http_conn *c, struct side *s, size_t room)
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
static ssize_t
send_to(struct http_conn *c, struct side *to, const void *p, size_t len, bool more)
{
    struct side *from = other(c, to);
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
    if (c->cl.in == NULL && (c->cl.in = buf_get(&H.bufs)) == NULL) {
        c->err = "no-buffer";
        c->cl.err = true;
        set_term(c, "RR");
        return false;
    }
    c->cl.in->start -= c->req_hold;     /* held bytes move along */
    make_room(c->cl.in, req_limit());
    c->cl.in->start += c->req_hold;
    if (c->cl.in->end >= req_limit())
        return false;
    if (recv_in(c, &c->cl, req_limit() - c->cl.in->end) > 0 && c->state == HTTP_HEAD) {
        if (!c->req_active) {
            c->req_active = true;
            c->t_req = c->cl.last;
        }
        c->got_bytes = true;
        idle_client_leave(c);
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
    return !body_is_done(&c->sv.body) ? c->sv.more : closing_after(c);
}

/* Sends the client what the server's pipe or buffer has cleared for it, else the page. */
static bool
write_client(struct http_conn *c)
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
        close_server(c);
        return false;
    }
    if (splice_start(c, &c->sv))
        return read_pipe(c, &c->sv);
    if (c->sv.in == NULL && (c->sv.in = buf_get(&H.bufs)) == NULL) {
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
static bool
write_server(struct http_conn *c)
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

static bool
read_side(struct http_conn *c, struct side *s)
{
    return s == &c->cl ? read_client(c) : read_server(c);
}

static bool
write_side(struct http_conn *c, struct side *s)
{
    return s == &c->cl ? write_client(c) : write_server(c);
}

/* Whether the loop in io_cb() may read side s again at once: a server only while it
 * has something of ours to answer. */
static bool
may_read_again(const struct http_conn *c, const struct side *s)
{
    if (s == &c->cl)
        return c->state != HTTP_CLOSED;
    return c->state == HTTP_RELAY || c->state == HTTP_TUNNEL;
}

/* Processes what arrived, writes what can go, and again while writing made progress. */
static void
run(struct http_conn *c)
{
    for (int round = 0; round < RUN_ROUNDS; round++) {
        bool wrote;

        process(c);
        if (c->state == HTTP_CLOSED)
            return;
        wrote = write_server(c);
        wrote = write_client(c) || wrote;
        if (!wrote)
            return;
    }
}

/* ---- watchers and timer ---- */

/* The client side's and the server side's deadlines in the current state. */
static void
deadlines(const struct http_conn *c, ev_tstamp *client, ev_tstamp *server)
{
    const struct yt_timeouts *to = &H.t->timeouts;
    uint32_t linger = to->client_ms != 0 && to->client_ms < LINGER_MS ? to->client_ms
                                                                      : LINGER_MS;

    *client = *server = DEADLINE_NONE;
    switch (c->state) {
    case HTTP_HEAD:
        if (output_pending(c))
            *client = deadline_after(c->cl.last, to->client_ms);
        else if (c->got_bytes || c->nreq == 0)
            *client = deadline_after(c->got_bytes ? c->t_req : c->cl.last,
                                     to->inspect_ms);
        else
            *client = deadline_after(c->cl.last, to->client_ms);
        break;
    case HTTP_CONNECT:
        *server = deadline_after(c->t_conn_start, to->connect_ms);
        break;
    case HTTP_RELAY:
        if (!body_is_done(&c->cl.body) || output_pending(c))
            *client = deadline_after(c->cl.last, to->client_ms);
        if (!body_is_done(&c->sv.body) || request_pending(c))
            *server = deadline_after(c->sv.last, to->server_ms);
        break;
    case HTTP_TUNNEL: {
        ev_tstamp last = c->cl.last > c->sv.last ? c->cl.last : c->sv.last;

        *client = deadline_after(last, to->tunnel_ms ? to->tunnel_ms : to->client_ms);
        break;
    }
    case HTTP_DRAIN:
        *client = c->lingering ? deadline_after(c->t_linger, linger)
                               : deadline_after(c->cl.last, to->client_ms);
        break;
    case HTTP_CLOSED:
        break;
    }
}

static void
expire(struct http_conn *c)
{
    ev_tstamp now = ev_now(c->loop), client, server;

    deadlines(c, &client, &server);
    switch (c->state) {
    case HTTP_HEAD:
        if (output_pending(c)) {
            set_term(c, "cD");
            c->state = HTTP_CLOSED;
        } else if (c->got_bytes) {
            answer_error(c, 408, "head-timeout", "cR");
        } else {
            set_term(c, "cR");
            c->state = HTTP_CLOSED;
        }
        break;
    case HTTP_CONNECT:
        connect_done(c, true);
        break;
    case HTTP_RELAY:
        if (server <= now + 0.0005) {
            if (c->status == 0) {
                answer_error(c, 504, "server-timeout", "sH");
                break;
            }
            c->err = "server-timeout";
            set_term(c, "sD");
        } else {
            if (c->status == 0) {
                answer_error(c, 408, "client-timeout", "cD");
                break;
            }
            c->err = "client-timeout";
            set_term(c, "cD");
        }
        c->state = HTTP_CLOSED;
        break;
    case HTTP_TUNNEL:
        set_term(c, "cD");
        c->err = "tunnel-timeout";
        c->state = HTTP_CLOSED;
        break;
    case HTTP_DRAIN:
    case HTTP_CLOSED:
        if (output_pending(c)) {
            set_term(c, "cD");
            c->err = "client-timeout";
        }
        c->state = HTTP_CLOSED;
        break;
    }
}

static void
arm_timer(struct http_conn *c)
{
    ev_tstamp client, server, d;

    deadlines(c, &client, &server);
    d = deadline_min(client, server);
    if (deadline_is_none(d)) {
        ev_timer_stop(c->loop, &c->timer);
        return;
    }
    /* An earlier firing only re-arms for the time remaining: no restart on progress. */
    if (ev_is_active(&c->timer) && c->timer_at <= d)
        return;
    ev_timer_stop(c->loop, &c->timer);
    ev_timer_set(&c->timer, d - ev_now(c->loop) > 0 ? d - ev_now(c->loop) : 0, 0);
    ev_timer_start(c->loop, &c->timer);
    c->timer_at = d;
}

/* Watcher interest follows the buffers: read a side while its inbound buffer has room, write
 * while its outbound buffer holds bytes for it. */
static void
arm(struct http_conn *c)
{
    bool cr = false, cw = output_pending(c), sr = false, sw = false;
    bool req_room = c->cl.pipe != NULL ? !c->cl.pipe_full && !body_is_done(&c->cl.body)
                                     : c->cl.in == NULL ||
                                       buf_len(c->cl.in) + c->req_hold < req_limit();
    bool resp_room = c->sv.pipe != NULL ? !c->sv.pipe_full && !body_is_done(&c->sv.body)
                                      : c->sv.in == NULL || buf_len(c->sv.in) < c->sv.in->cap;

    switch (c->state) {
    case HTTP_HEAD:
        cr = !c->cl.eof && req_room;
        sr = c->sv.fd >= 0;
        break;
    case HTTP_CONNECT:
        cr = !c->cl.eof && req_room;
        sw = true;
        break;
    case HTTP_RELAY:
    case HTTP_TUNNEL:
        cr = !c->cl.eof && req_room;
        sr = !c->sv.eof && resp_room;
        sw = request_pending(c) && !c->server_wr_err;
        break;
    case HTTP_DRAIN:
        cr = !c->cl.eof;
        break;
    case HTTP_CLOSED:
        cw = false;
        break;
    }
    /* A pipe is held only with bytes in it, and never with bytes in resp before them. */
    assert(c->sv.pipe == NULL || (c->sv.pipe->len > 0 && buf_len(c->sv.in) == 0));
    assert(c->cl.pipe == NULL || (c->cl.pipe->len > 0 && buf_len(c->cl.in) == 0));
    set_io(c->loop, &c->cl.io, c->cl.fd, (cr ? EV_READ : 0) | (cw ? EV_WRITE : 0));
    set_io(c->loop, &c->sv.io, c->sv.fd, (sr ? EV_READ : 0) | (sw ? EV_WRITE : 0));
    arm_timer(c);
    assert(c->state == HTTP_CLOSED || ev_is_active(&c->cl.io) || ev_is_active(&c->sv.io) ||
           ev_is_active(&c->timer));
}

static void
conn_free(struct http_conn *c)
{
    struct ev_loop *loop = c->loop;

    log_request(c);
    idle_client_leave(c);
    release_server(c);              /* an idle server connection outlives its client */
    set_io(loop, &c->cl.io, -1, 0);
    set_io(loop, &c->sv.io, -1, 0);
    ev_timer_stop(loop, &c->timer);
    close(c->cl.fd);
    buf_put(c->cl.in);
    buf_put(c->sv.in);
    buf_pipe_put(c->sv.pipe);
    buf_pipe_put(c->cl.pipe);
    free(c->text);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        H.list = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    admit_leave();
    free(c);
}

/* Sends what MSG_MORE held back: setting TCP_NODELAY (again) pushes pending frames. Done
 * before going back to the loop, as a read that filled its buffer may have taken the last
 * byte there was, and nothing would come to push the held frame out. */
static void
uncork(struct http_conn *c)
{
    struct side *sides[2] = { &c->cl, &c->sv };
    int one = 1;

    for (int i = 0; i < 2; i++) {
        if (sides[i]->corked && sides[i]->fd >= 0) {
            setsockopt(sides[i]->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            sides[i]->corked = false;
        }
    }
}

static void
finish(struct http_conn *c)
{
    if (c->state == HTTP_CLOSED) {
        conn_free(c);                   /* the one place a connection is freed */
        return;
    }
    uncork(c);
    arm(c);
}

static void
io_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct http_conn *c = w->data;

    struct side *s = w == &c->cl.io ? &c->cl : &c->sv;
    bool full = false;

    (void)loop;
    if (s == &c->sv && c->state == HTTP_CONNECT) {
        if (revents & (EV_WRITE | EV_READ))
            connect_done(c, false);
        run(c);
        finish(c);
        return;
    }
    if (revents & EV_READ)
        full = read_side(c, s);
    if (revents & EV_WRITE)
        write_side(c, s);
    run(c);
    /* A read that filled its buffer leaves more queued: once forwarding made room,
     * reading again at once saves a loop turn per buffer on bulk transfers. */
    for (int i = 1; full && i < READ_ROUNDS && may_read_again(c, s); i++) {
        full = read_side(c, s);
        run(c);
    }
    finish(c);
}

static void
timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct http_conn *c = w->data;
    ev_tstamp client, server, d;

    (void)loop;
    (void)revents;
    deadlines(c, &client, &server);
    d = deadline_min(client, server);
    if (d <= ev_now(c->loop) + 0.0005) {
        expire(c);
        run(c);
    }
    finish(c);
}

/* ---- the module's entry points ---- */

int
http_init(const struct yt_table *t)
{
    uint32_t cap = DEFAULT_MAX_HEAD, idle_ms;
    bool l7 = false;

    for (uint32_t i = 0; i < t->listener_count; i++) {
        const struct yt_listener *l = &t->listeners[i];
        uint32_t m = l->max_head ? l->max_head : DEFAULT_MAX_HEAD;

        if (l->mode != YT_MODE_TLS && m > cap)
            cap = m;
        l7 = l7 || l->mode != YT_MODE_TLS;
    }
    H.t = t;
    H.quiescing = false;
    buf_pool_init(&H.bufs, cap + RESERVE, 0, FREE_BUFS_MAX);
    buf_pipe_pool_init(&H.pipes, PIPE_SIZE, PIPE_POOL_KEEP, PIPE_MAX_IN_USE);
    H.splice_off = false;
    idle_ms = t->timeouts.server_ms != 0 && t->timeouts.server_ms < IDLE_TIMEOUT_MS
              ? t->timeouts.server_ms : IDLE_TIMEOUT_MS;
    return ups_init(&H.ups, t, l7 ? idle_ms : 0);
}

void
http_fini(void)
{
    buf_pool_trim(&H.bufs);
    buf_pipe_pool_trim(&H.pipes);
    ups_fini(&H.ups);
}

void
http_accept(struct ev_loop *loop, int fd, const struct yt_listener *l,
            const union yt_addr *peer)
{
    struct http_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        log_msg(LOG_LEVEL_ERR, "l7 listener=%.*s err=out-of-memory close", (int)l->name.len,
                H.t->blob + l->name.off);
        close(fd);
        return;
    }
    c->loop = loop;
    c->l = l;
    c->cl.fd = fd;
    c->sv.fd = -1;
    c->id = stats_next_id();
    c->peer = *peer;
    c->peer_text_len = (uint32_t)alog_addr(peer, c->peer_text, sizeof(c->peer_text), true);
    c->up.server = YT_NONE;
    c->max_head = l->max_head ? l->max_head : DEFAULT_MAX_HEAD;
    if (c->max_head > req_limit())
        c->max_head = req_limit();
    ev_io_init(&c->cl.io, io_cb, fd, EV_READ);
    ev_io_init(&c->sv.io, io_cb, 0, EV_READ);
    ev_timer_init(&c->timer, timer_cb, 0, 0);
    c->cl.io.data = c->sv.io.data = c->timer.data = c;
    reset_request(c);
    c->t_req = c->cl.last = ev_now(loop);
    c->req_active = true;           /* the first request is awaited from the accept on */
    /* TCP_NODELAY comes from the listening socket (listener.c). */
    c->next = H.list;
    if (H.list != NULL)
        H.list->prev = c;
    H.list = c;
    admit_enter();
    /* Each client may need a server descriptor: idle ones give way, so that descriptors stay
     * within what maxconn was settled for (two per connection). */
    ups_idle_fit(&H.ups);
    if (H.quiescing) {
        c->state = HTTP_CLOSED;
        finish(c);
        return;
    }
    arm(c);
}

/* Whether the client has bytes the proxy has not read yet (or its FIN): a request that
 * a close now would answer with a reset. */
static bool
has_unread(int fd)
{
    char b;

    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 || errno != EAGAIN;
}

bool
http_has_idle(void)
{
    return H.idle_cli_oldest != NULL;
}

bool
http_reclaim_idle(void)
{
    struct http_conn *c = H.idle_cli_oldest;

    /* A few at most: one whose next request is already in its socket is left alone (a
     * close would reset it and lose the request); it leaves the list when read. */
    for (int i = 0; c != NULL && i < 8; i++, c = c->idle_newer) {
        if (ev_is_pending(&c->cl.io) || has_unread(c->cl.fd))
            continue;
        c->state = HTTP_CLOSED;     /* an idle keep-alive close: no log line */
        finish(c);
        return true;
    }
    return false;
}

/* Connections between two requests close now; the others end after their exchange. A
 * connection that has not sent its first request yet is served: it was accepted from the
 * listening socket a moment ago, its client has a request on the way (after a takeover
 * the next process accepts the ones still queued), and closing it would lose that
 * request. So is one whose next request is already in the kernel. */
void
http_quiesce(struct ev_loop *loop)
{
    struct http_conn *c = H.list, *next;

    (void)loop;
    H.quiescing = true;
    ups_idle_close_all(&H.ups);
    for (; c != NULL; c = next) {
        next = c->next;
        if (c->state == HTTP_HEAD && c->nreq > 0 && buf_len(c->cl.in) == 0 &&
            !output_pending(c) && !has_unread(c->cl.fd)) {
            if (!c->got_bytes)
                c->req_active = false;  /* nothing asked: no request to log */
            c->state = HTTP_CLOSED;
            finish(c);
        }
    }
}

void
http_close_all(struct ev_loop *loop)
{
    (void)loop;
    H.quiescing = true;             /* nothing is parked from here on */
    ups_idle_close_all(&H.ups);
    while (H.list != NULL) {
        struct http_conn *c = H.list;

        c->term[0] = 'K';
        if (c->term[1] == '\0')
            c->term[1] = '-';
        c->state = HTTP_CLOSED;
        conn_free(c);
    }
}

size_t
http_struct_size(void)
{
    return sizeof(struct http_conn);
}
