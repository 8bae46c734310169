/* tlsload: a small, bounded load generator for the benchmark harness.
 *
 * It drives many client connections at once from one thread (epoll, non-blocking OpenSSL)
 * and speaks just enough HTTP/1.1 to send a GET with a Host header and read one response
 * framed by Content-Length. Every run is bounded both in count (-n) and in time (-t) and
 * ends by itself.
 *
 *   conn   a new connection per request: TCP connect, full TLS handshake with SNI (no
 *          session resumption, no tickets), one request with "Connection: close", close.
 *   ka     -c connections, each sends requests one after the other over one TLS session.
 *   idle   opens -n connections (at most -c being set up at a time), each completes its
 *          handshake and one request, then stays idle; prints "ready ..." and holds them
 *          for -t seconds (or until SIGTERM), so the harness can read the proxy's memory.
 *
 * -P uses plain TCP instead of TLS (the idle-memory run through an HTTP listener).
 * Output: one line of key=value pairs on stdout (idle: a "ready" line, then a "done" line).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "loadlib.h"

enum mode { MODE_CONN = 0, MODE_KA, MODE_IDLE };

enum lstate { L_FREE = 0, L_CONNECT, L_HANDSHAKE, L_SEND, L_RECV, L_IDLE };

#define RESP_CAP 16384
#define GRACE_S 5.0     /* in-flight work may finish this long after the deadline */

struct lconn {
    enum lstate state;
    int fd;
    SSL *ssl;
    uint32_t events;            /* epoll interest currently registered */
    double t0;                  /* request start (conn mode: connect start) */
    size_t sent;                /* bytes of the request written */
    char resp[RESP_CAP];
    size_t have;                /* bytes in resp */
    long long body_left;        /* -1 while the head is incomplete */
};

struct opts {
    enum mode mode;
    bool plain;
    const char *host, *port, *sni, *path;
    long count;                 /* requests (conn, ka) or connections (idle) */
    double secs;                /* run time (conn, ka) or hold time (idle) */
    long conc;
};

static struct opts opt;
static SSL_CTX *ctx;
static struct sockaddr_storage dst;
static socklen_t dst_len;
static int ep;
static char req[1024];
static size_t req_len;

static long started, completed, errors, established, dropped;
static uint32_t *lat_us;        /* one entry per completed request */

static void
usage(void)
{
    fprintf(stderr, "usage: tlsload -m conn|ka|idle [-P] [-s sni] [-p path] [-n count] "
            "[-t secs] [-c conc] host port\n");
    exit(2);
}

static void
set_interest(struct lconn *c, uint32_t ev)
{
    struct epoll_event e = { .events = ev, .data.ptr = c };

    if (ev == c->events)
        return;
    if (epoll_ctl(ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == -1) {
        perror("epoll_ctl");
        exit(1);
    }
    c->events = ev;
}

static void
close_conn(struct lconn *c)
{
    if (c->ssl) {
        SSL_set_quiet_shutdown(c->ssl, 1);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd != -1) {
        close(c->fd);           /* also removes it from the epoll set */
        c->fd = -1;
    }
    c->events = 0;
    c->state = L_FREE;
}

static void
fail_conn(struct lconn *c)
{
    errors++;
    if (opt.mode != MODE_IDLE)
        started--;              /* the request it carried did not complete */
    close_conn(c);
}

static bool
open_conn(struct lconn *c, double now)
{
    int one = 1;

    c->fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd == -1) {
        perror("socket");
        return false;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (dst.ss_family == AF_INET) {
        /* Spread clients over 127.0.1.1 .. 127.0.250.250: with one source address, a new
         * connection often reuses a port whose old connection the proxy still holds in
         * TIME_WAIT, and its SYN is then retransmitted after a full second. */
        static uint32_t next_src;
        struct sockaddr_in src = { .sin_family = AF_INET };
        uint32_t k = next_src++ % (250 * 250);

        src.sin_addr.s_addr = htonl(0x7f000000u | (1 + k / 250) << 8 | (1 + k % 250));
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
            close(c->fd);
            c->fd = -1;
            return false;
        }
    }
    c->events = 0;
    c->ssl = NULL;
    c->t0 = now;
    c->sent = 0;
    c->have = 0;
    c->body_left = -1;
    if (connect(c->fd, (struct sockaddr *)&dst, dst_len) == -1 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    c->state = L_CONNECT;
    set_interest(c, EPOLLOUT);
    return true;
}

/* Maps an OpenSSL (or plain) I/O result onto epoll interest; false means a hard error. */
static bool
want(struct lconn *c, int ret)
{
    if (c->ssl) {
        switch (SSL_get_error(c->ssl, ret)) {
        case SSL_ERROR_WANT_READ:
            set_interest(c, EPOLLIN);
            return true;
        case SSL_ERROR_WANT_WRITE:
            set_interest(c, EPOLLOUT);
            return true;
        default:
            ERR_clear_error();
            return false;
        }
    }
    return false;
}

static ssize_t
io_write(struct lconn *c, const char *p, size_t n)
{
    if (c->ssl)
        return SSL_write(c->ssl, p, (int)n);
    return write(c->fd, p, n);
}

static ssize_t
io_read(struct lconn *c, char *p, size_t n)
{
    if (c->ssl)
        return SSL_read(c->ssl, p, (int)n);
    return read(c->fd, p, n);
}

/* Parses the response head in c->resp; returns 1 when done, 0 when more is needed, -1 on a
 * status other than 200 or a head without Content-Length. */
static int
parse_head(struct lconn *c)
{
    char *end = memmem(c->resp, c->have, "\r\n\r\n", 4);
    size_t head_len;
    long long cl = -1;

    if (!end)
        return c->have == RESP_CAP ? -1 : 0;
    head_len = (size_t)(end - c->resp) + 4;
    if (c->have < 12 || memcmp(c->resp + 9, "200", 3) != 0)
        return -1;
    for (char *p = c->resp; p < end; ) {
        char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);

        if (!eol)
            break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
            cl = strtoll(p + 15, NULL, 10);
        p = eol + 2;
    }
    if (cl < 0)
        return -1;
    c->body_left = cl - (long long)(c->have - head_len);
    c->have = 0;
    return 1;
}

static void
request_done(struct lconn *c, double now)
{
    if (opt.mode == MODE_IDLE) {
        established++;
        c->state = L_IDLE;
        set_interest(c, EPOLLIN);   /* only to notice a peer closing the idle connection */
        return;
    }
    if (completed < opt.count)
        lat_us[completed] = (uint32_t)((now - c->t0) * 1e6);
    completed++;
    if (opt.mode == MODE_CONN) {
        close_conn(c);
        return;
    }
    c->state = L_FREE;              /* ka: the main loop decides whether to send again */
}

/* Drives one connection as far as it can go without blocking. */
static void
step(struct lconn *c, double now)
{
    for (;;) {
        switch (c->state) {
        case L_FREE:
            return;
        case L_CONNECT: {
            int err = 0;
            socklen_t len = sizeof(err);

            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
                fail_conn(c);
                return;
            }
            if (opt.plain) {
                c->state = L_SEND;
                break;
            }
            c->ssl = SSL_new(ctx);
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_tlsext_host_name(c->ssl, opt.sni);
            c->state = L_HANDSHAKE;
            break;
        }
        case L_HANDSHAKE: {
            int r = SSL_connect(c->ssl);

            if (r == 1) {
                c->state = L_SEND;
                break;
            }
            if (!want(c, r))
                fail_conn(c);
            return;
        }
        case L_SEND: {
            ssize_t r = io_write(c, req + c->sent, req_len - c->sent);

            if (r > 0) {
                c->sent += (size_t)r;
                if (c->sent == req_len) {
                    c->state = L_RECV;
                    c->have = 0;
                    c->body_left = -1;
                }
                break;
            }
            if (!c->ssl && r == -1 && errno == EAGAIN) {
                set_interest(c, EPOLLOUT);
                return;
            }
            if (!want(c, (int)r))
                fail_conn(c);
            return;
        }
        case L_RECV: {
            char sink[RESP_CAP];
            char *into = c->body_left < 0 ? c->resp + c->have : sink;
            size_t room = c->body_left < 0 ? RESP_CAP - c->have : sizeof(sink);
            ssize_t r = io_read(c, into, room);

            if (r > 0) {
                if (c->body_left < 0) {
                    int h;

                    c->have += (size_t)r;
                    h = parse_head(c);
                    if (h < 0) {
                        fail_conn(c);
                        return;
                    }
                    if (h == 0)
                        break;
                } else {
                    c->body_left -= r;
                }
                if (c->body_left <= 0) {
                    request_done(c, now);
                    return;
                }
                break;
            }
            if (!c->ssl && r == -1 && errno == EAGAIN) {
                set_interest(c, EPOLLIN);
                return;
            }
            if (c->ssl && r <= 0 && want(c, (int)r))
                return;
            fail_conn(c);
            return;
        }
        case L_IDLE: {
            char b[256];
            ssize_t r = c->ssl ? SSL_read(c->ssl, b, sizeof(b)) : read(c->fd, b, sizeof(b));

            if (r > 0)
                return;             /* e.g. TLS 1.3 session tickets: ignore */
            if (!c->ssl && r == -1 && errno == EAGAIN)
                return;
            if (c->ssl && want(c, (int)r))
                return;
            dropped++;
            established--;
            close_conn(c);
            return;
        }
        }
    }
}

static void
begin_request(struct lconn *c, double now)
{
    c->t0 = now;
    c->sent = 0;
    c->state = L_SEND;
    started++;
    step(c, now);
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static uint32_t
pct(long n, double p)
{
    long i = (long)(p * (double)(n - 1) + 0.5);

    return n > 0 ? lat_us[i] : 0;
}

static void
parse_args(int argc, char **argv)
{
    int ch;

    opt = (struct opts){ .mode = MODE_CONN, .sni = "a.bench.test", .path = "/",
                         .count = 1000, .secs = 10, .conc = 16 };
    while ((ch = getopt(argc, argv, "m:Ps:p:n:t:c:")) != -1) {
        switch (ch) {
        case 'm':
            if (strcmp(optarg, "conn") == 0)
                opt.mode = MODE_CONN;
            else if (strcmp(optarg, "ka") == 0)
                opt.mode = MODE_KA;
            else if (strcmp(optarg, "idle") == 0)
                opt.mode = MODE_IDLE;
            else
                usage();
            break;
        case 'P': opt.plain = true; break;
        case 's': opt.sni = optarg; break;
        case 'p': opt.path = optarg; break;
        case 'n': opt.count = atol(optarg); break;
        case 't': opt.secs = atof(optarg); break;
        case 'c': opt.conc = atol(optarg); break;
        default: usage();
        }
    }
    if (argc - optind != 2 || opt.count < 1 || opt.count > 100000000 || opt.conc < 1 ||
        opt.secs <= 0 || opt.secs > 3600)
        usage();
    opt.host = argv[optind];
    opt.port = argv[optind + 1];
}

static void
setup(void)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
    struct addrinfo *ai;
    struct sigaction sa = { .sa_handler = on_signal };

    if (getaddrinfo(opt.host, opt.port, &hints, &ai) != 0) {
        fprintf(stderr, "tlsload: bad address %s port %s (numeric only)\n", opt.host, opt.port);
        exit(2);
    }
    memcpy(&dst, ai->ai_addr, ai->ai_addrlen);
    dst_len = ai->ai_addrlen;
    freeaddrinfo(ai);

    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    raise_nofile();

    if (!opt.plain) {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        /* Every connection pays a full handshake: no session cache, no tickets. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    req_len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
                               opt.path, opt.sni,
                               opt.mode == MODE_CONN ? "Connection: close\r\n" : "");
    ep = epoll_create1(EPOLL_CLOEXEC);
    lat_us = calloc((size_t)(opt.mode == MODE_IDLE ? 1 : opt.count), sizeof(*lat_us));
    if (ep == -1 || !lat_us) {
        perror("tlsload");
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    struct lconn *conns;
    long nconns;
    struct epoll_event evs[256];
    double start, deadline, hard, last = 0, now;
    bool ready = false;

    parse_args(argc, argv);
    setup();
    nconns = opt.mode == MODE_IDLE ? opt.count : opt.conc;
    conns = calloc((size_t)nconns, sizeof(*conns));
    if (!conns) {
        perror("tlsload");
        return 1;
    }
    for (long i = 0; i < nconns; i++)
        conns[i].fd = -1;

    start = now_s();
    deadline = start + opt.secs;
    hard = deadline + GRACE_S;
    long next_idle = 0;         /* idle mode: next slot to open */

    for (;;) {
        now = now_s();
        bool may_start = !stop_flag && now < deadline && started < opt.count;

        if (opt.mode == MODE_IDLE) {
            long pending = next_idle - established - dropped - errors;

            while (!stop_flag && !ready && next_idle < opt.count && pending < opt.conc &&
                   now < hard) {
                if (!open_conn(&conns[next_idle], now))
                    errors++;
                next_idle++;
                pending++;
            }
            if (!ready && ((next_idle == opt.count && pending == 0) || now >= hard)) {
                ready = true;
                printf("ready established=%ld errors=%ld secs=%.3f\n", established, errors,
                       now - start);
                fflush(stdout);
                deadline = now + opt.secs;
                hard = deadline;
            }
            if (ready && (stop_flag || now >= deadline))
                break;
        } else {
            long busy = 0;

            for (long i = 0; i < nconns; i++) {
                struct lconn *c = &conns[i];

                if (c->state == L_FREE && may_start && started < opt.count) {
                    if (opt.mode == MODE_KA && c->fd != -1) {
                        begin_request(c, now);
                    } else if (c->fd == -1) {
                        if (open_conn(c, now))
                            started++;
                        else
                            errors++;
                    }
                } else if (c->state == L_FREE && c->fd != -1 && !may_start) {
                    close_conn(c);
                }
                if (c->state != L_FREE)
                    busy++;
            }
            if (busy == 0 && !may_start)
                break;
            if (now >= hard || (stop_flag && now >= deadline))
                break;
            if (errors > opt.count)
                break;          /* nothing works: do not spin until the deadline */
        }

        int n = epoll_wait(ep, evs, 256, 50);

        now = now_s();
        for (int i = 0; i < n; i++) {
            struct lconn *c = evs[i].data.ptr;
            long before = completed;

            step(c, now);
            if (completed != before)
                last = now;
            /* ka: send the next request on this connection right away */
            if (opt.mode == MODE_KA && c->state == L_FREE && c->fd != -1 && !stop_flag &&
                now < deadline && started < opt.count)
                begin_request(c, now);
        }
    }

    now = now_s();
    if (opt.mode == MODE_IDLE) {
        printf("done established=%ld dropped=%ld errors=%ld\n", established, dropped, errors);
        return 0;
    }
    double secs = (last > start ? last : now) - start;
    long n = completed < opt.count ? completed : opt.count;

    qsort(lat_us, (size_t)n, sizeof(*lat_us), cmp_u32);
    printf("mode=%s requests=%ld errors=%ld secs=%.3f rate=%.1f p50_us=%u p99_us=%u\n",
           opt.mode == MODE_CONN ? "conn" : "ka", completed, errors, secs,
           secs > 0 ? (double)completed / secs : 0.0, pct(n, 0.50), pct(n, 0.99));
    return completed > 0 ? 0 : 1;
}
