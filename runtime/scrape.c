/* The metrics listeners' connections: read a request head, answer it, again or close.
 * See scrape.h. One state machine per connection, as conn.c and http.c have:
 *
 *     head (read and parse) -> send (the answer) -> head again, or -> linger -> closed
 *
 * Linger: after the last answer the proxy half-closes and reads and drops what the
 * client still sends for a moment, so that closing with unread bytes does not reset the
 * connection under the answer (RFC 9112 §9.6). */
#include "scrape.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "admit.h"
#include "clock.h"
#include "httphead.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "stats.h"

#define DEFAULT_MAX_HEAD (16 * 1024)
#define LINGER_MS 1000              /* at most this long (and at most timeout client) */
#define ANSWER_HEAD_MAX 512
#define RUN_ROUNDS 16               /* state changes per event, a safety bound */
#define METRICS_PATH "/metrics"

enum scrape_state { SCRAPE_HEAD = 0, SCRAPE_SEND, SCRAPE_LINGER, SCRAPE_CLOSED };

struct scrape_conn {
    struct ev_io io;
    struct ev_timer timer;
    struct ev_loop *loop;
    const struct yt_listener *l;
    struct scrape_conn *next;       /* every open one, for quiesce and close_all */
    enum scrape_state state;
    ev_tstamp since;                /* head: the wait for it began; send: last progress;
                                     * linger: it began */
    struct hh_gate gate;
    uint32_t nreq;                  /* heads answered on this connection */
    bool eof;                       /* the client sent its FIN */
    bool close_after;               /* the answer being sent is the last */
    bool req_open;                  /* a request under way, not yet counted */
    char term[2];                   /* its termination code, "--" when all went well */
    uint64_t bytes_in, bytes_out;   /* of the request under way */
    char head[ANSWER_HEAD_MAX];     /* the answer's head */
    size_t head_len;
    char *body;                     /* owned: the answer's body, or NULL */
    size_t body_len, sent;          /* sent: of head_len + body_len */
    uint32_t in_len, in_cap;
    uint8_t in[];                   /* in_cap bytes: request heads as they come */
};

static const struct yt_table *table;
static struct scrape_conn *conns;
static bool quiescing;

void
scrape_init(const struct yt_table *t)
{
    table = t;
    quiescing = false;
}

/* ---- the request's end: counted on its listener alone ---- */

static void
count_request(struct scrape_conn *c)
{
    if (!c->req_open)
        return;
    c->req_open = false;
    stats_end(c->l, YT_NONE, YT_NONE, c->bytes_in, c->bytes_out, c->term);
    c->bytes_in = c->bytes_out = 0;
    c->term[0] = c->term[1] = '-';
}

static void
fail(struct scrape_conn *c, const char *term)
{
    if (c->term[0] == '-') {
        c->term[0] = term[0];
        c->term[1] = term[1];
    }
    c->state = SCRAPE_CLOSED;
}

/* ---- answers ---- */

static void
send_answer(struct scrape_conn *c, bool keep)
{
    c->sent = 0;
    c->close_after = !keep;
    c->state = SCRAPE_SEND;
    c->since = ev_now(c->loop);
}

/* A short text/plain answer ("404 Not Found\n"), kept alive when keep. */
static void
answer_text(struct scrape_conn *c, int status, const char *extra, int minor, bool keep)
{
    char text[64];
    int n = snprintf(text, sizeof(text), "%d %s\n", status, reply_reason(status));

    c->head_len = reply_head(c->head, sizeof(c->head) - sizeof(text), status,
                             "text/plain; charset=utf-8", (uint64_t)n, extra, minor, keep);
    memcpy(c->head + c->head_len, text, (size_t)n);
    c->head_len += (size_t)n;
    send_answer(c, keep);
}

/* A head the parser refused, or none in time: its status, then close. */
static void
answer_error(struct scrape_conn *c, int status, const char *term)
{
    c->head_len = reply_status_page(c->head, sizeof(c->head), status);
    c->term[0] = term[0];
    c->term[1] = term[1];
    send_answer(c, false);
}

static void
answer_metrics(struct scrape_conn *c, bool is_head, int minor, bool keep)
{
    struct metrics_process p = metrics_process_now(clock_ms(c->loop), admit_maxconn());

    c->body = metrics_render_all(table, &p, &c->body_len);
    if (c->body == NULL) {
        answer_error(c, 503, "RR");
        return;
    }
    c->head_len = reply_head(c->head, sizeof(c->head), 200, METRICS_CONTENT_TYPE,
                             c->body_len, "Cache-Control: no-cache\r\n", minor, keep);
    if (is_head) {                  /* the length of what GET would send, no body */
        free(c->body);
        c->body = NULL;
        c->body_len = 0;
    }
    send_answer(c, keep);
}

static bool
span_is(const uint8_t *data, struct span s, const char *text)
{
    return s.len == strlen(text) && memcmp(data + s.off, text, s.len) == 0;
}

/* The one resource: /metrics, with any query (a scraper may add parameters). */
static bool
is_metrics_path(const uint8_t *data, struct span path)
{
    size_t n = sizeof(METRICS_PATH) - 1;

    return path.len >= n && memcmp(data + path.off, METRICS_PATH, n) == 0 &&
           (path.len == n || data[path.off + n] == '?');
}

/* The head at the front of in is complete and valid: answer it. */
static void
answer_request(struct scrape_conn *c, const struct hh_request *r)
{
    bool get = span_is(c->in, r->method, "GET"), head = r->is_head;
    /* A body would have to be read to find the next request: close instead. */
    bool keep = r->keep_alive && r->body == HH_BODY_NONE && !quiescing && !c->eof;
    int minor = r->version_minor;
    bool found = is_metrics_path(c->in, r->path);

    c->bytes_in = r->head_len;
    memmove(c->in, c->in + r->head_len, c->in_len - r->head_len);
    c->in_len -= (uint32_t)r->head_len;
    c->gate = (struct hh_gate){ 0 };
    if (!get && !head)
        answer_text(c, 405, "Allow: GET, HEAD\r\n", minor, keep);
    else if (!found)
        answer_text(c, 404, "", minor, keep);
    else
        answer_metrics(c, head, minor, keep);
}

/* ---- the states ---- */

static void
on_head(struct scrape_conn *c)
{
    struct hh_request r;
    enum hh_result res;

    if (c->in_len == 0) {
        if (c->eof || (quiescing && c->nreq > 0))
            c->state = SCRAPE_CLOSED;
        return;
    }
    c->req_open = true;
    res = hh_parse_request_gated(&c->gate, c->in, c->in_len, c->in_cap, &r);
    if (res == HH_NEED_MORE) {
        if (c->in_len < c->in_cap) {
            if (c->eof) {
                c->bytes_in = c->in_len;
                fail(c, "CR");
            }
            return;
        }
        res = hh_head_too_large(&c->gate);
    }
    if (res != HH_OK) {
        c->bytes_in = c->in_len;
        c->in_len = 0;
        answer_error(c, hh_result_status(res), "PR");
        return;
    }
    answer_request(c, &r);
}

static void
answer_sent(struct scrape_conn *c)
{
    free(c->body);
    c->body = NULL;
    c->body_len = c->head_len = c->sent = 0;
    c->nreq++;
    count_request(c);
    c->since = ev_now(c->loop);
    if (!c->close_after) {
        c->state = SCRAPE_HEAD;
        return;
    }
    shutdown(c->io.fd, SHUT_WR);
    c->state = c->eof ? SCRAPE_CLOSED : SCRAPE_LINGER;
}

/* Sends what the socket takes now of the answer's head and body. */
static void
send_some(struct scrape_conn *c)
{
    while (c->sent < c->head_len + c->body_len) {
        struct iovec iov[2];
        struct msghdr m = { .msg_iov = iov };
        ssize_t n;

        if (c->sent < c->head_len) {
            iov[m.msg_iovlen++] = (struct iovec){ c->head + c->sent, c->head_len - c->sent };
            if (c->body_len > 0)
                iov[m.msg_iovlen++] = (struct iovec){ c->body, c->body_len };
        } else {
            iov[m.msg_iovlen++] = (struct iovec){ c->body + (c->sent - c->head_len),
                                                  c->head_len + c->body_len - c->sent };
        }
        n = sendmsg(c->io.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail(c, "CD");
            return;
        }
        c->sent += (size_t)n;
        c->bytes_out += (uint64_t)n;
        c->since = ev_now(c->loop);
    }
    answer_sent(c);
}

/* Reads what the client sent: request bytes while reading heads (as long as they fit),
 * bytes to drop while lingering. */
static void
read_some(struct scrape_conn *c)
{
    uint8_t drop[4096];
    bool keep = c->state == SCRAPE_HEAD;
    uint8_t *to = keep ? c->in + c->in_len : drop;
    size_t room = keep ? c->in_cap - c->in_len : sizeof(drop);
    ssize_t n;

    if (room == 0)
        return;
    n = recv(c->io.fd, to, room, 0);
    if (n == 0) {
        c->eof = true;
    } else if (n > 0) {
        c->in_len += keep ? (uint32_t)n : 0;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->eof = true;
        fail(c, c->in_len > 0 || c->state != SCRAPE_HEAD ? "CR" : "--");
    }
    if (c->state == SCRAPE_LINGER && c->eof)
        c->state = SCRAPE_CLOSED;
}

static void
run(struct scrape_conn *c)
{
    /* An answer sent at once leaves the state as it was: the bytes taken say it moved. */
    for (int round = 0; round < RUN_ROUNDS; round++) {
        enum scrape_state before = c->state;
        uint32_t in_before = c->in_len;

        if (c->state == SCRAPE_HEAD)
            on_head(c);
        if (c->state == SCRAPE_SEND)
            send_some(c);
        if (c->state == before && c->in_len == in_before)
            return;
    }
}

/* ---- the connection in the loop ---- */

static ev_tstamp
deadline(const struct scrape_conn *c)
{
    uint32_t client_ms = table->timeouts.client_ms;
    uint32_t linger = client_ms != 0 && client_ms < LINGER_MS ? client_ms : LINGER_MS;

    return deadline_after(c->since, c->state == SCRAPE_LINGER ? linger : client_ms);
}

static void
expire(struct scrape_conn *c)
{
    if (c->state == SCRAPE_HEAD && c->in_len > 0) {
        c->bytes_in = c->in_len;
        c->in_len = 0;
        answer_error(c, 408, "cR");
        run(c);
    } else {
        fail(c, c->state == SCRAPE_SEND ? "cD" : "--");
    }
}

static void
conn_free(struct scrape_conn *c)
{
    count_request(c);
    ev_io_stop(c->loop, &c->io);
    ev_timer_stop(c->loop, &c->timer);
    close(c->io.fd);
    free(c->body);
    /* A scan: scrapers are few, and each holds at most one connection or two. */
    for (struct scrape_conn **p = &conns; *p != NULL; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    admit_leave();
    free(c);
}

/* Watcher interest and the timer follow the state; a closed connection is freed here. */
static void
finish(struct scrape_conn *c)
{
    int events = c->state == SCRAPE_SEND ? EV_WRITE :
                 c->state == SCRAPE_HEAD && !c->eof && c->in_len < c->in_cap ? EV_READ :
                 c->state == SCRAPE_LINGER ? EV_READ : 0;
    ev_tstamp d;

    if (c->state == SCRAPE_CLOSED) {
        conn_free(c);               /* the one place a connection is freed */
        return;
    }
    if ((c->io.events & (EV_READ | EV_WRITE)) != events || !ev_is_active(&c->io)) {
        ev_io_stop(c->loop, &c->io);
        ev_io_set(&c->io, c->io.fd, events);
        if (events != 0)
            ev_io_start(c->loop, &c->io);
    }
    ev_timer_stop(c->loop, &c->timer);
    d = deadline(c);
    if (!deadline_is_none(d)) {
        ev_timer_set(&c->timer, d > ev_now(c->loop) ? d - ev_now(c->loop) : 0, 0);
        ev_timer_start(c->loop, &c->timer);
    }
    if (!ev_is_active(&c->io) && !ev_is_active(&c->timer)) {
        fail(c, "--");              /* nothing left to wait for: no timeout, no input */
        conn_free(c);
    }
}

static void
io_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct scrape_conn *c = w->data;

    (void)loop;
    if (revents & EV_READ)
        read_some(c);
    if (c->state != SCRAPE_CLOSED)
        run(c);
    finish(c);
}

static void
timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct scrape_conn *c = w->data;

    (void)loop;
    (void)revents;
    if (deadline(c) <= ev_now(c->loop) + 0.0005)
        expire(c);
    finish(c);
}

void
scrape_accept(struct ev_loop *loop, int fd, const struct yt_listener *l,
              const union yt_addr *peer)
{
    uint32_t cap = l->max_head ? l->max_head : DEFAULT_MAX_HEAD;
    struct scrape_conn *c = calloc(1, sizeof(*c) + cap);

    (void)peer;
    if (c == NULL) {
        log_msg(LOG_LEVEL_ERR, "metrics listener=%.*s err=out-of-memory close",
                (int)l->name.len, table->blob + l->name.off);
        close(fd);
        return;
    }
    c->loop = loop;
    c->l = l;
    c->in_cap = cap;
    c->term[0] = c->term[1] = '-';
    c->since = ev_now(loop);
    ev_io_init(&c->io, io_cb, fd, EV_READ);
    ev_init(&c->timer, timer_cb);
    c->io.data = c->timer.data = c;
    c->next = conns;
    conns = c;
    admit_enter();
    finish(c);
}

void
scrape_quiesce(struct ev_loop *loop)
{
    struct scrape_conn *next;

    (void)loop;
    quiescing = true;
    for (struct scrape_conn *c = conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == SCRAPE_HEAD && c->in_len == 0 && c->nreq > 0) {
            c->state = SCRAPE_CLOSED;
            finish(c);
        }
    }
}

void
scrape_close_all(struct ev_loop *loop)
{
    (void)loop;
    quiescing = true;
    while (conns != NULL) {
        fail(conns, "K-");
        conn_free(conns);
    }
}
