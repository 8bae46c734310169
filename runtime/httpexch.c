/* Layer 7, the exchange: request heads and where they go, response heads, body framing,
 * the proxy's own answers, and each request's log line. See httpconn.h. */
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
#include "proxyin.h"
#include "reply.h"
#include "rewrite.h"
#include "stats.h"

static void
remember(char *dst, size_t cap, uint32_t *len_out, const void *src, size_t len)
{
    memcpy(dst, src, len < cap ? len : cap);
    *len_out = (uint32_t)len;
}

/* The request's access line, as text or JSON (alog.h: json is a constant). */
static inline __attribute__((always_inline)) void
http_log_line(const struct http_conn *c, const char term[2], bool json)
{
    const struct yt_table *t = http_eng.t;
    struct alog a;
    ev_tstamp now = ev_now(c->loop);
    ev_tstamp after_head = c->t_conn_done > 0 ? c->t_conn_done : c->t_head;
    static const struct req_text none;  /* no head parsed (or no memory for its text) */
    const struct req_text *tx = c->text != NULL ? c->text : &none;
    struct yt_str no_name = { 0, 0 };

    if (json)
        alog_begin_json(&a);
    else
        alog_begin(&a);
    alog_key(&a, json, "conn=", "conn");
    alog_u64(&a, c->id);
    alog_key(&a, json, " client=", "client");
    alog_quoted(&a, json, c->peer_text, c->peer_text_len);
    alog_flag(&a, json, "l7");
    alog_key(&a, json, " listener=", "listener");
    alog_table_name(&a, json, t->blob, c->l->name);
    alog_key(&a, json, " host=", "host");
    alog_peer(&a, json, tx->host, sizeof(tx->host), tx->host_len);
    alog_key(&a, json, " site=", "site");
    alog_table_name(&a, json, t->blob, c->site != YT_NONE ? t->sites[c->site].name : no_name);
    alog_key(&a, json, " server=", "server");
    alog_table_name(&a, json, t->blob,
                    c->log_server != YT_NONE ? t->servers[c->log_server].name : no_name);
    alog_key(&a, json, " method=", "method");
    alog_peer(&a, json, tx->method, sizeof(tx->method), tx->method_len);
    alog_key(&a, json, " path=", "path");
    alog_peer(&a, json, tx->path, sizeof(tx->path), tx->path_len);
    alog_key(&a, json, " status=", "status");
    if (c->status > 0)
        alog_u64(&a, (uint64_t)c->status);
    else
        alog_none(&a, json);
    alog_key(&a, json, " in=", "in");
    alog_u64(&a, c->bytes_in);
    alog_key(&a, json, " out=", "out");
    alog_u64(&a, c->bytes_out);
    alog_key(&a, json, " t=", "t");
    if (json)
        alog_lit(&a, "\"");
    alog_long(&a, clock_ms_between(c->t_req, c->t_head));
    alog_lit(&a, "/");
    alog_long(&a, clock_ms_between(c->t_conn_start, c->t_conn_done));
    alog_lit(&a, "/");
    alog_long(&a, clock_ms_between(after_head, c->t_resp));
    alog_lit(&a, "/");
    alog_long(&a, clock_ms_between(c->t_req, now));
    if (json)
        alog_lit(&a, "\"");
    alog_key(&a, json, " reuse=", "reuse");
    if (c->log_reuse != YT_NONE)
        alog_u64(&a, c->log_reuse);
    else
        alog_none(&a, json);
    alog_key(&a, json, " term=", "term");
    alog_quoted(&a, json, term, 2);
    if (c->err != NULL)
        alog_err(&a, json, c->err, c->err_no);
    if (c->retried)
        alog_flag(&a, json, "retried");
    alog_emit(&a, json);
}

void
http_log_request(struct http_conn *c)
{
    char term[2];

    if (c->logged || !c->req_active)
        return;
    c->logged = true;
    term[0] = c->term[0] ? c->term[0] : '-';
    term[1] = c->term[1] ? c->term[1] : '-';
    stats_end(c->l, c->pool, c->log_server, c->bytes_in, c->bytes_out, term);
    if (!c->got_bytes && c->status == 0 && (c->l->flags & YT_LISTENER_DONTLOGNULL))
        return;
    if (!alog_wanted(c->l))
        return;
    if (c->l->flags & YT_LISTENER_LOG_JSON)
        http_log_line(c, term, true);
    else
        http_log_line(c, term, false);
}

/* Starts the bookkeeping of the next request on a persistent connection. */
void
http_reset_request(struct http_conn *c)
{
    c->site = c->pool = c->log_server = c->log_reuse = YT_NONE;
    c->up.tries = 0;
    c->cl.body = c->sv.body = (struct body){ .phase = BODY_DONE };
    c->status = 0;
    c->bytes_in = c->bytes_out = 0;
    c->t_req = c->t_head = c->t_conn_start = c->t_conn_done = c->t_resp = 0;
    c->err = NULL;
    c->err_no = 0;
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
    http_reset_request(c);
    if (buf_len(c->cl.in) > 0) {
        c->req_active = c->got_bytes = true;
        c->t_req = ev_now(c->loop);
    }
}

/* Stops serving requests: the server goes, the client gets what is pending, then the
 * connection closes (see on_drain). */
static void
enter_drain(struct http_conn *c)
{
    http_close_server(c);
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
    for (uint32_t i = 0; i < http_eng.t->error_count; i++)
        if (http_eng.t->errors[i].status == status)
            return &http_eng.t->errors[i];
    return NULL;
}

/* Answers the current request with the error page for status and closes after it. If the
 * final response head already went out, only closes. */
void
http_answer_error(struct http_conn *c, int status, const char *err, const char *term)
{
    const struct yt_errpage *p;

    if (c->err == NULL)
        c->err = err;
    set_term(c, term);
    http_close_server(c);
    if (c->status != 0) {           /* too late for a page: the client has a head */
        enter_drain(c);
        return;
    }
    c->status = status;
    p = find_page(status);
    if (p != NULL) {
        c->page = http_eng.t->blob + p->response.off;
        c->page_len = p->response.len;
        c->page_off = 0;
        c->bytes_out += p->response.len;
    } else {
        if (c->sv.in == NULL)
            c->sv.in = buf_get(&http_eng.bufs);
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
    bool keep = r->keep_alive && r->body == HH_BODY_NONE && !http_eng.quiescing && !c->cl.eof;
    size_t n;

    if (r->host_len == 0) {
        http_answer_error(c, 400, "redirect-without-host", "PR");
        return;
    }
    if (c->sv.in == NULL && (c->sv.in = buf_get(&http_eng.bufs)) == NULL) {
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
        http_answer_error(c, 400, "redirect-target", "PR");
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
    http_log_request(c);
    next_request(c);
}

static void
frame_request(struct http_conn *c)
{
    while (!body_is_done(&c->cl.body) && c->cl.in != NULL && buf_len(c->cl.in) > c->cl.fwd) {
        size_t used;
        enum hh_result r = body_frame(&c->cl.body, c->cl.in->data + c->cl.in->start + c->cl.fwd,
                                      buf_len(c->cl.in) - c->cl.fwd, &used);

        if (r != HH_OK && r != HH_NEED_MORE) {
            /* Never pass on what we cannot frame: the server may be reading it. */
            http_answer_error(c, hh_result_status(r), hh_result_str(r), "PD");
            return;
        }
        c->cl.fwd += (uint32_t)used;
        c->bytes_in += used;
    }
}

/* The request head at the front of cl.in goes to the server as rw_request() makes it, with
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
        http_make_room(b, 0);
    tail = buf_len(b) - r->head_len;
    len = rw_request(b->data + b->start, tail, buf_room(b), r, &o, add, n, &added);
    b->end = b->start + (uint32_t)(len + tail);
    return added ? len : 0;
}

/* The response head at the front of what sv.in has not cleared goes to the client as
 * rw_response() makes it. Returns the head's new length; *added says whether what it adds
 * found room (a 101 needs its Connection line, a normalised length its Content-Length). */
static size_t
forward_response_head(struct http_conn *c, const struct hh_response *rs, bool *added)
{
    struct buf *b = c->sv.in;
    bool keep = c->req_keep_alive && rs->keep_alive && !http_eng.quiescing;
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

static void
start_forward(struct http_conn *c, const struct hh_request *r, uint32_t pool)
{
    const struct yt_pool *p = &http_eng.t->pools[pool];
    bool fwd_for = (c->l->flags & YT_LISTENER_FORWARDED_FOR) ||
                   (c->site != YT_NONE &&
                    (http_eng.t->sites[c->site].flags & YT_SITE_FORWARDED_FOR));

    c->pool = pool;
    c->retry_ok = r->body == HH_BODY_NONE &&
                  is_idempotent(c->cl.in->data + c->cl.in->start + r->method.off, r->method.len);
    /* WebSocket only, and never on a redirect listener (its ACME carve-out included). */
    c->req_upgrade = r->upgrade && c->l->mode == YT_MODE_HTTP;
    /* A client that closes after each request need not close the server's connection. */
    c->close_stripped = !r->keep_alive && r->version_minor == 1 && !c->req_upgrade &&
                        ups_idle_enabled(&http_eng.ups) && !http_eng.quiescing;
    c->req_keep_alive = r->keep_alive;
    c->req_is_head = r->is_head;
    c->req_minor = (uint8_t)r->version_minor;
    c->sv.body.phase = BODY_HEAD;
    body_start(&c->cl.body, r->body, r->content_length);
    c->bytes_in = r->head_len;
    c->cl.fwd = (uint32_t)forward_request_head(c, r, fwd_for);
    if (c->cl.fwd == 0) {
        http_answer_error(c, 431, "head-rewrite", "PR");
        return;
    }
    frame_request(c);
    if (c->state != HTTP_HEAD)
        return;
    if (c->sv.fd >= 0 && c->up.server >= p->first && c->up.server < p->first + p->count &&
        !c->server_dirty && ups_server_may_reuse(&http_eng.ups, c->up.server) &&
        http_server_is_alive(c)) {
        http_reuse_server(c);
        return;
    }
    http_release_server(c);
    c->up.server = YT_NONE;
    http_connect_next(c);
}

/* accept-proxy: the PROXY header in front of the first request, taken out of cl.in (the
 * request after it stays). Returns whether the head may be read now; otherwise the header
 * is still coming, or the connection was refused (closed). */
static bool
take_proxy_header(struct http_conn *c)
{
    struct buf *b = c->cl.in;
    union yt_addr local;
    size_t used;
    const char *err;

    local.sa.sa_family = AF_UNSPEC;
    switch (pin_take(http_eng.t, c->l, b->data + b->start, buf_len(b), &c->peer, &local,
                     &used, &err)) {
    case PIN_WAIT:
        if (c->cl.eof) {
            c->err = "truncated-proxy";
            set_term(c, "CR");
            c->state = HTTP_CLOSED;
        }
        return false;
    case PIN_REFUSE:
        c->err = err;
        set_term(c, "PR");
        c->state = HTTP_CLOSED;
        return false;
    case PIN_PASS:
        break;
    }
    if (pin_keep_local(&local, &c->local) == -1) {
        c->err = "no-memory";
        set_term(c, "RR");
        c->state = HTTP_CLOSED;
        return false;
    }
    c->proxy_pending = false;
    b->start += (uint32_t)used;
    c->peer_text_len = (uint32_t)alog_addr(&c->peer, c->peer_text, sizeof(c->peer_text), true);
    /* A header alone (a balancer's health check) is a connection that sent nothing. */
    c->got_bytes = buf_len(b) > 0;
    return true;
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
    if (c->proxy_pending && buf_len(c->cl.in) > 0 && !take_proxy_header(c))
        return;
    len = buf_len(c->cl.in);
    if (len == 0) {
        /* Stopping: a connection between requests closes; a new one is still served (its
         * request may be on the way, see http_quiesce). */
        if (c->cl.eof || (http_eng.quiescing && c->nreq > 0)) {
            if (c->cl.eof)
                set_term(c, "CR");
            if (!c->got_bytes)      /* nothing asked: no request to log */
                c->req_active = c->nreq == 0;
            c->state = HTTP_CLOSED;
        } else if (c->nreq > 0) {
            http_idle_client_enter(c);   /* a keep-alive client between requests */
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
        http_answer_error(c, hh_result_status(res), hh_result_str(res), "PR");
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
        http_answer_error(c, 501, "connect-method", "PR");
        return;
    }
    d = yt_resolve(http_eng.t, c->l, r.host, r.host_len, (const char *)data + r.path.off,
                   r.path.len);
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
        http_answer_error(c, d.status ? d.status : 503, "no-route", "PR");
        break;
    }
}

static void
bad_response(struct http_conn *c, const char *err, const char *term)
{
    http_answer_error(c, 502, err, term);
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
                    http_retry_request(c);
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
bool
http_closing_after(const struct http_conn *c)
{
    return !c->req_keep_alive || !c->resp_keep_alive || c->close_after || http_eng.quiescing;
}

/* The client asked for this exchange to be the last (Connection: close, or HTTP/1.0), sent
 * its whole request and nothing after it: no byte past the request was read, and the last
 * read did not fill its buffer. */
static bool
client_is_done(const struct http_conn *c)
{
    return !c->req_keep_alive && body_is_done(&c->cl.body) && !request_pending(c) &&
           c->cl.pipe == NULL && (c->cl.in == NULL || buf_len(c->cl.in) == 0) && !c->cl.more;
}

/* The response is complete and sent: log, then the next request or the end. */
static void
exchange_end(struct http_conn *c)
{
    bool keep = !http_closing_after(c) && body_is_done(&c->cl.body) && !request_pending(c);
    /* The server was asked to keep the connection, agreed, and is between messages. */
    bool server_keep = (c->req_keep_alive || c->close_stripped) && c->resp_keep_alive &&
                       body_is_done(&c->cl.body) && !request_pending(c) && !c->close_after &&
                       !c->req_upgrade && !c->sv.eof && !c->server_dirty &&
                       !c->server_wr_err && !http_eng.quiescing;

    http_log_request(c);
    c->server_idle = server_keep;
    if (!keep) {
        c->nothing_unread = client_is_done(c);
        http_release_server(c);          /* to the idle pool, or closed */
        enter_drain(c);
        return;
    }
    if (!server_keep)
        http_close_server(c);
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
        /* With nothing unread, the close sends the answer and a FIN, as a shutdown would,
         * and the client has promised to send nothing more: no half-close, no wait for
         * its FIN (a shutdown, a poll, an epoll_ctl and a read less per connection). */
        if (c->nothing_unread) {
            c->state = HTTP_CLOSED;
            return;
        }
        /* Closing with unread input would reset the connection and could destroy the
         * answer in flight; half-close, then read and drop for a moment (RFC 9112 §9.6).
         * The shutdown sends what MSG_MORE held back. */
        shutdown(c->cl.fd, SHUT_WR);
        c->cl.corked = false;
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

/* Processes what arrived, writes what can go, and again while writing made progress. */
void
http_run(struct http_conn *c)
{
    for (int round = 0; round < RUN_ROUNDS; round++) {
        bool wrote;

        process(c);
        if (c->state == HTTP_CLOSED)
            return;
        wrote = http_write_server(c);
        wrote = http_write_client(c) || wrote;
        if (!wrote)
            return;
    }
}
