/* The layer-7 engine's own header, shared by http.c (the connection in the loop),
 * httpexch.c (the exchange: heads, framing, answers, the log line) and httpside.c (the
 * sides: the server connection, reads, writes, splicing). Nothing outside them includes
 * it: http.h is the engine's contract. */
#ifndef RUNTIME_HTTPCONN_H
#define RUNTIME_HTTPCONN_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "body.h"
#include "buf.h"
#include "httphead.h"
#include "log.h"
#include "table.h"
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
    HTTP_TUNNEL,                    /* after 101: opaque bytes both ways, here until
                                     * conn.c's relay takes them (tunnel) */
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
struct http_side {
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
    bool idle_listed;               /* in that list (http_eng.idle_cli_*) */
    struct ev_loop *loop;
    const struct yt_listener *l;
    enum http_state state;
    int status;                     /* final status sent or being sent; 0: none yet */
    struct http_side cl, sv;             /* the client; the server (fd -1: none) */
    struct ev_timer timer;
    ev_tstamp timer_at;             /* when the timer fires, while active */
    const char *page;
    uint32_t page_len, page_off;

    uint64_t id;
    union yt_addr peer;             /* the client: accept()'s, or a PROXY header's */
    uint32_t peer_text_len;
    union yt_addr *local;           /* the address it reached, from a PROXY header (owned);
                                     * NULL: the client socket's own */
    char peer_text[INET6_ADDRSTRLEN + 8];   /* peer as the log line writes it */
    char term[2];                   /* HAProxy-like termination state */
    uint32_t max_head;

    /* the current request */
    uint32_t site, pool;
    struct ups_try up;              /* server, tries */
    uint32_t log_server;            /* server of the current request, for its log line */
    uint32_t log_reuse;             /* requests its server connection carried before it */
    uint32_t nreq;                  /* heads parsed on this connection */
    uint32_t server_nreq;           /* requests sent on the current server connection */
    uint32_t req_hold;              /* sent request bytes kept before cl.in->start (retry) */
    uint64_t bytes_in, bytes_out;
    ev_tstamp t_req, t_head, t_conn_start, t_conn_done, t_resp, t_linger;
    const char *err;                /* why it failed, for the log line */
    int err_no;                     /* the errno behind err, or 0 */
    struct conn *tunnel;            /* the relay of conn.c has both sockets, or NULL */
    struct req_text *text;          /* of the request under way, for its log line */

    bool proxy_pending;             /* accept-proxy: the first bytes are not looked at yet */
    bool req_active;                /* a request (or the wait for the first) is under way */
    bool got_bytes;                 /* it has sent at least one byte */
    bool logged;
    bool req_keep_alive, req_is_head, req_upgrade;
    uint8_t req_minor;              /* HTTP/1.0 or HTTP/1.1 */
    bool resp_keep_alive;
    bool server_wr_err, server_dirty, server_reused;
    bool server_idle;               /* sv.fd is a clean kept connection between requests */
    bool retry_ok;                  /* idempotent, without a body: may be sent again */
    bool can_retry;                 /* sent on a reused connection, no answer byte yet */
    bool retried;                   /* this request already went to a second connection */
    bool close_stripped;            /* "close" taken out of the request's Connection */
    bool close_after;               /* answer this response, then close */
    bool lingering;
    bool nothing_unread;            /* drain: the client said it sends no more, and did not */
    unsigned server_read_iter;      /* loop iteration of the last read from the server */
};

/* What the layer-7 connections share. */
struct http_engine {
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
};

extern struct http_engine http_eng;

static inline uint32_t
req_limit(void)
{
    return http_eng.bufs.cap - RESERVE;
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

static inline void
set_term(struct http_conn *c, const char *term)
{
    if (c->term[0] == '-' || c->term[0] == '\0') {
        c->term[0] = term[0];
        c->term[1] = term[1];
    }
}

static inline void
put_if_empty(struct buf **b)
{
    if (*b != NULL && buf_is_empty(*b)) {
        buf_put(*b);
        *b = NULL;
    }
}

/* ---- the connection in the loop (http.c) ---- */

/* Watches fd for events on w (none, or fd -1: stops it); a no-op when nothing changes. */
void http_set_io(struct ev_loop *loop, struct ev_io *w, int fd, int events);
/* c waits idle between requests (listed for http_reclaim_idle()) / no longer does. */
void http_idle_client_enter(struct http_conn *c);
void http_idle_client_leave(struct http_conn *c);

/* ---- the exchange: heads, framing, answers, the log line (httpexch.c) ---- */

/* The current request's log line and counters, once. */
void http_log_request(struct http_conn *c);
/* Starts the bookkeeping of the next request on a persistent connection. */
void http_reset_request(struct http_conn *c);
/* Answers the current request with status (the table's page, or a minimal one) and closes
 * after it; only closes when the client has a response head already. */
void http_answer_error(struct http_conn *c, int status, const char *err, const char *term);
/* The exchange under way is the connection's last. */
bool http_closing_after(const struct http_conn *c);
/* Processes what arrived, writes what can go, and again while writing made progress. */
void http_run(struct http_conn *c);

/* ---- the sides: the server connection, reads, writes, splicing (httpside.c) ---- */

/* Moves the pending bytes of b to the front when they reach limit or start passed half. */
void http_make_room(struct buf *b, uint32_t limit);
/* Closes the server connection (bytes not cleared for the client go with it). */
void http_close_server(struct http_conn *c);
/* Whether the kept server connection has neither closed nor sent anything. */
bool http_server_is_alive(const struct http_conn *c);
/* The client is done with its server connection: to the idle pool, or closed. */
void http_release_server(struct http_conn *c);
/* The request goes out on the kept server connection. */
void http_reuse_server(struct http_conn *c);
/* A reused server connection failed before any answer: the request goes once more. */
void http_retry_request(struct http_conn *c);
/* Connects to (or reuses a connection to) the next server of the pool; 503 when none. */
void http_connect_next(struct http_conn *c);
/* The connect in progress ended (writable) or timed out. */
void http_connect_done(struct http_conn *c, bool timed_out);
/* Sends the client / the server what is cleared for it; true when some went. */
bool http_write_client(struct http_conn *c);
bool http_write_server(struct http_conn *c);
/* Reads / writes side s; a read returns whether it filled the room there was. */
bool http_read_side(struct http_conn *c, struct http_side *s);
bool http_write_side(struct http_conn *c, struct http_side *s);
/* Whether the watcher callback may read side s again at once. */
bool http_may_read_again(const struct http_conn *c, const struct http_side *s);
/* Pushes what MSG_MORE held back, on both sides. */
void http_uncork(struct http_conn *c);

#endif
