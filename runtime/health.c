#include "health.h"

#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "hcheck.h"
#include "log.h"
#include "stats.h"

enum phase {
    PHASE_IDLE = 0,                 /* waiting for the next check */
    PHASE_CONNECT,                  /* connect() in progress */
    PHASE_SEND,                     /* http: the request is going out */
    PHASE_READ,                     /* http: reading the status line */
};

struct checked {
    struct ev_io io;
    struct ev_timer timer;          /* the next check, or the running one's timeout */
    const struct yt_check *ck;      /* keeps (the table's) */
    uint32_t server;
    enum phase phase;
    ev_tstamp started;              /* ev_time() at the start of the running check */
    ev_tstamp due;                  /* loop time the running or next check is due at */
    uint16_t sent, got;
    uint8_t line[16];               /* the status line's first bytes */
};

static const struct yt_table *table;
static struct pool_check *states;   /* one per server */
static struct checked *recs;        /* one per checked server */
static uint32_t rec_count;
static uint64_t rng;

int
health_init(const struct yt_table *t)
{
    uint32_t n = 0;

    table = t;
    if (t->pool_checks == NULL || t->server_count == 0)
        return 0;
    for (uint32_t p = 0; p < t->pool_count; p++)
        if (t->pool_checks[p] != YT_NONE)
            n += t->pools[p].count;
    states = calloc(t->server_count, sizeof(*states));
    recs = calloc(n ? n : 1, sizeof(*recs));
    if (states == NULL || recs == NULL) {
        free(states);
        free(recs);
        states = NULL;
        recs = NULL;
        return -1;
    }
    for (uint32_t p = 0; p < t->pool_count; p++) {
        const struct yt_pool *pl = &t->pools[p];

        if (t->pool_checks[p] == YT_NONE)
            continue;
        for (uint32_t i = pl->first; i < pl->first + pl->count; i++) {
            struct checked *c = &recs[rec_count++];

            states[i].checked = 1;
            c->server = i;
            c->ck = &t->checks[t->pool_checks[p]];
            c->io.fd = -1;
        }
    }
    return 0;
}

struct pool_check *
health_states(void)
{
    return states;
}

/* xorshift64*: spreading the checks needs no more than that, and no system call. */
static uint32_t
random_below(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (uint32_t)(((rng * 0x2545f4914f6cdd1dull) >> 32) % n) : 0;
}

/* Seconds from a check's start to the next one's: the interval less up to an eighth. */
static ev_tstamp
period(const struct yt_check *ck)
{
    return clock_secs(ck->interval_ms - random_below(ck->interval_ms / 8 + 1));
}

static void check_io_cb(struct ev_loop *loop, struct ev_io *w, int revents);
static void check_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents);

void
health_start(struct ev_loop *loop)
{
    rng = ((uint64_t)getpid() << 32) ^ (uint64_t)(ev_time() * 1e6) ^ 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < rec_count; i++) {
        struct checked *c = &recs[i];

        ev_io_init(&c->io, check_io_cb, -1, EV_WRITE);
        c->io.data = c;
        c->due = ev_now(loop) + clock_secs(random_below(c->ck->interval_ms) + 1);
        ev_timer_init(&c->timer, check_timer_cb, c->due - ev_now(loop), 0);
        c->timer.data = c;
        ev_timer_start(loop, &c->timer);
    }
}

/* "POOL/[addr]:port", as show stat names it. */
static const char *
server_label(uint32_t server)
{
    static char buf[2 * YT_NAME_MAX + 64];

    stats_server_name(server, buf, sizeof(buf));
    return buf;
}

static void
log_change(uint32_t server, bool down, const char *reason, long latency_us,
           const struct pool_check *st)
{
    char lat[32] = "-";

    if (latency_us >= 0)
        snprintf(lat, sizeof(lat), "%ld.%03ldms", latency_us / 1000, latency_us % 1000);
    log_msg(down ? LOG_LEVEL_WARNING : LOG_LEVEL_NOTICE,
            "health: server %s is %s, reason=%s latency=%s passes=%u fails=%u",
            server_label(server), down ? "DOWN" : "UP", reason, lat, st->passes, st->fails);
}

void
health_passive_down(uint32_t server)
{
    if (states == NULL)
        return;
    stats_server_check_down(server, true);
    log_change(server, true, "connect-failed", -1, &states[server]);
}

/* The running check of c ended with result: closes its socket, feeds the state machine,
 * publishes, logs a change, and schedules the next check. */
static void
finish(struct ev_loop *loop, struct checked *c, enum stats_check_result result,
       uint16_t status)
{
    struct pool_check *st = &states[c->server];
    bool passed = result == STATS_CHECK_L4OK || result == STATS_CHECK_L7OK;
    ev_tstamp now = ev_time();
    long latency_us = (long)((now - c->started) * 1e6);
    enum pool_change change;
    struct stats_check sc;
    char reason[32];

    if (c->io.fd >= 0) {
        ev_io_stop(loop, &c->io);
        close(c->io.fd);
        ev_io_set(&c->io, -1, EV_WRITE);
    }
    ev_timer_stop(loop, &c->timer);
    c->phase = PHASE_IDLE;
    change = pool_check_result(st, passed, c->ck->rise, c->ck->fall);
    sc = (struct stats_check){
        .result = result, .status = status, .passes = st->passes, .fails = st->fails,
        .latency_us = latency_us < 0 ? 0 : (uint32_t)latency_us, .at_ms = clock_ms(loop),
        .down = st->down != 0,
    };
    stats_server_checked(c->server, &sc);
    if (change != POOL_SAME) {
        if (result == STATS_CHECK_L7STS || result == STATS_CHECK_L7OK)
            snprintf(reason, sizeof(reason), "%s/%u", stats_check_result_names[result], status);
        else
            snprintf(reason, sizeof(reason), "%s", stats_check_result_names[result]);
        log_change(c->server, change == POOL_WENT_DOWN, reason, latency_us, st);
    }
    /* From when this check was due, not from when it ran: a loop that wakes late (a busy
     * machine) does not push every later check back by as much. */
    c->due += period(c->ck);
    if (c->due < ev_now(loop))
        c->due = ev_now(loop);
    ev_timer_set(&c->timer, c->due - ev_now(loop), 0);
    ev_timer_start(loop, &c->timer);
}

/* http: sends what is left of the request. */
static void
send_request(struct ev_loop *loop, struct checked *c)
{
    const struct yt_check *ck = c->ck;
    const struct yt_server *s = &table->servers[c->server];
    const struct yt_str host = ck->host.len ? ck->host : s->name;
    char req[HC_REQUEST_MAX];
    int version = s->flags & YT_SERVER_PROXY_V2 ? 2 : s->flags & YT_SERVER_PROXY_V1 ? 1 : 0;
    size_t head = version ? hc_proxy_local(version, (uint8_t *)req, sizeof(req)) : 0;
    size_t len = hc_request(req + head, sizeof(req) - head, table->blob + ck->method.off,
                            ck->method.len, table->blob + ck->path.off, ck->path.len,
                            table->blob + host.off, host.len);
    ssize_t n;

    len = len != 0 ? head + len : 0;
    if (len == 0) {
        finish(loop, c, STATS_CHECK_SOCKERR, 0);
        return;
    }
    n = send(c->io.fd, req + c->sent, len - c->sent, MSG_NOSIGNAL);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n == -1) {
        finish(loop, c, STATS_CHECK_L7RSP, 0);
        return;
    }
    c->sent = (uint16_t)(c->sent + n);
    if (c->sent < len)
        return;
    c->phase = PHASE_READ;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->io.fd, EV_READ);
    ev_io_start(loop, &c->io);
}

/* http: reads the status line's first bytes and judges them. */
static void
read_status(struct ev_loop *loop, struct checked *c)
{
    ssize_t n = recv(c->io.fd, c->line + c->got, sizeof(c->line) - c->got, 0);
    uint16_t status = 0;
    enum hc_result r;

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n > 0)
        c->got = (uint16_t)(c->got + n);
    r = hc_status_line(c->line, c->got, &status);
    if (r == HC_NEED_MORE && n > 0 && c->got < sizeof(c->line))
        return;
    if (r != HC_STATUS)
        finish(loop, c, STATS_CHECK_L7RSP, 0);
    else if (status >= c->ck->status_min && status <= c->ck->status_max)
        finish(loop, c, STATS_CHECK_L7OK, status);
    else
        finish(loop, c, STATS_CHECK_L7STS, status);
}

/* The connect is over: its result, then (http) the request. */
static void
connected(struct ev_loop *loop, struct checked *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
        err = errno;
    if (err != 0) {
        finish(loop, c, STATS_CHECK_L4CON, 0);
        return;
    }
    if (c->ck->kind == YT_CHECK_TCP) {
        finish(loop, c, STATS_CHECK_L4OK, 0);
        return;
    }
    c->phase = PHASE_SEND;
    send_request(loop, c);
}

static void
check_io_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct checked *c = w->data;

    (void)revents;
    if (c->phase == PHASE_CONNECT)
        connected(loop, c);
    else if (c->phase == PHASE_SEND)
        send_request(loop, c);
    else if (c->phase == PHASE_READ)
        read_status(loop, c);
}

static void
start_check(struct ev_loop *loop, struct checked *c)
{
    const struct yt_server *s = &table->servers[c->server];
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    c->started = ev_time();
    c->sent = c->got = 0;
    if (fd == -1) {
        finish(loop, c, STATS_CHECK_SOCKERR, 0);
        return;
    }
    ev_io_set(&c->io, fd, EV_WRITE);
    c->phase = PHASE_CONNECT;
    if (connect(fd, (const struct sockaddr *)&s->addr, sizeof(s->addr)) == -1 &&
        errno != EINPROGRESS) {
        finish(loop, c, STATS_CHECK_L4CON, 0);
        return;
    }
    ev_io_start(loop, &c->io);
    ev_timer_set(&c->timer, clock_secs(c->ck->timeout_ms), 0);
    ev_timer_start(loop, &c->timer);
}

/* Idle: time for the next check. Running: its timeout. */
static void
check_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct checked *c = w->data;

    (void)revents;
    if (c->phase == PHASE_IDLE)
        start_check(loop, c);
    else
        finish(loop, c, c->phase == PHASE_CONNECT ? STATS_CHECK_L4TOUT : STATS_CHECK_L7TOUT, 0);
}

void
health_fini(struct ev_loop *loop)
{
    for (uint32_t i = 0; i < rec_count; i++) {
        struct checked *c = &recs[i];

        ev_timer_stop(loop, &c->timer);
        if (c->io.fd >= 0) {
            ev_io_stop(loop, &c->io);
            close(c->io.fd);
        }
    }
    free(recs);
    free(states);
    recs = NULL;
    states = NULL;
    rec_count = 0;
}
