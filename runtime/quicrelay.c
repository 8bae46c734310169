#include "quicrelay.h"

#include <errno.h>
#include <ev.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "alog.h"
#include "clock.h"
#include "log.h"
#include "quic.h"
#include "stats.h"
#include "upstream.h"

/* Connection IDs of its server a flow is found by, besides its client's address. */
#define FLOW_CIDS 2
#define HASH_MIN 1024               /* buckets to start with; doubled as keys come */

enum flow_state { FLOW_INSPECT = 0, FLOW_RELAY, FLOW_REFUSED };

enum key_kind { KEY_ADDR = 0, KEY_CID };

/* A key of the flow index: the client's address (with the listening socket it came to)
 * or one of the server's connection IDs. Embedded in its flow. */
struct key {
    struct key *next;               /* same bucket */
    struct flow *flow;
    uint64_t hash;
    uint8_t len;                    /* of bytes; 0: not in the index */
    uint8_t bytes[1 + sizeof(int) + sizeof(struct sockaddr_in6)];
};

/* What a flow holds before its server is chosen; freed once it is. */
struct undecided {
    struct quic_flow qf;
    uint32_t held_len, held_cap;
    uint8_t *held;                  /* datagrams as [u16 length][bytes], in arrival order */
};

struct flow {
    struct ev_io io;                /* the connected socket towards the server, -1 before */
    struct ev_timer timer;
    struct flow *prev, *next;       /* every flow, for quicrelay_close_all() */
    const struct yt_listener *l;
    int lfd;                        /* the listening socket: replies leave through it */
    struct undecided *u;            /* FLOW_INSPECT only */
    char *sni;                      /* owned, for the log line; NULL when none */
    struct key addr_key;            /* the client's address */
    struct key dcid_key;            /* the DCID of the client's first Initial */
    struct key cid_key[FLOW_CIDS];  /* CIDs the server chose */
    union yt_addr peer;
    socklen_t peer_len;
    ev_tstamp t_first, t_routed, last_c, last_s;
    uint64_t id, bytes_c, bytes_s;
    uint32_t site, pool, server;    /* YT_NONE until known */
    uint32_t rebinds;               /* times the client's address changed */
    uint8_t state;                  /* enum flow_state */
    char term[2];
    const char *err;                /* why it ended abnormally (static), or NULL */
    int err_no;
};

static const struct yt_table *table;
static struct upstream ups;
static struct flow *flows;
static uint32_t undecided_count;
static struct key **buckets;
static size_t bucket_count, key_count;
static uint64_t seed;
static uint32_t cid_lengths;        /* bit n: some server chose CIDs of n bytes */
static uint8_t dgram[65536];        /* one datagram at a time, either direction */

static void flow_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents);
static void timer_restart(struct ev_loop *loop, struct flow *f);
static void flow_server_cb(struct ev_loop *loop, struct ev_io *w, int revents);

/* ---- set-up ---- */

int
quicrelay_init(const struct yt_table *t)
{
    static const uint8_t dcid[QUIC_INITIAL_DCID_MIN];
    uint8_t pkt[64] = { 0xc0 }, out[64];
    struct quic_keys k;
    size_t hl;
    uint64_t pn;

    table = t;
    /* libcrypto's clean-up at exit takes locks the system call filter does not allow;
     * nothing of it needs cleaning up when the process ends. */
    if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
        return -1;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)(uintptr_t)&seed ^ (uint64_t)getpid();
    /* libcrypto loads its configuration and fetches its ciphers on first use: do it now,
     * while files may be opened, not under the system call filter. */
    if (quic_initial_keys(QUIC_VERSION_1, dcid, sizeof(dcid), false, &k) == -1 ||
        quic_open(&k, pkt, sizeof(pkt), 18, UINT64_MAX, out, &hl, &pn) == -2)
        return -1;
    return ups_init(&ups, t, 0);
}

void
quicrelay_fini(void)
{
    ups_fini(&ups);
    free(buckets);
    buckets = NULL;
    bucket_count = key_count = 0;
}

size_t
quicrelay_flow_size(void)
{
    return sizeof(struct flow);
}

size_t
quicrelay_undecided_size(void)
{
    return sizeof(struct undecided);
}

/* ---- the index: client addresses and server connection IDs to flows ---- */

static void
key_set_addr(struct key *k, int lfd, const union yt_addr *a)
{
    size_t n = a->sa.sa_family == AF_INET ? sizeof(a->in4) : sizeof(a->in6);
    union yt_addr c;

    /* Only what identifies the address: the rest of the struct may hold anything. */
    memset(&c, 0, sizeof(c));
    c.sa.sa_family = a->sa.sa_family;
    if (a->sa.sa_family == AF_INET) {
        c.in4.sin_port = a->in4.sin_port;
        c.in4.sin_addr = a->in4.sin_addr;
    } else {
        c.in6.sin6_port = a->in6.sin6_port;
        c.in6.sin6_addr = a->in6.sin6_addr;
        c.in6.sin6_scope_id = a->in6.sin6_scope_id;
    }
    k->bytes[0] = KEY_ADDR;
    memcpy(k->bytes + 1, &lfd, sizeof(lfd));
    memcpy(k->bytes + 1 + sizeof(lfd), &c, n);
    k->len = (uint8_t)(1 + sizeof(lfd) + n);
}

static void
key_set_cid(struct key *k, const uint8_t *cid, size_t len)
{
    k->bytes[0] = KEY_CID;
    memcpy(k->bytes + 1, cid, len);
    k->len = (uint8_t)(1 + len);
}

static bool
index_grow(void)
{
    size_t n = bucket_count ? bucket_count * 2 : HASH_MIN;
    struct key **b = calloc(n, sizeof(*b));

    if (b == NULL)
        return false;
    for (size_t i = 0; i < bucket_count; i++) {
        struct key *k = buckets[i], *next;

        for (; k != NULL; k = next) {
            next = k->next;
            k->next = b[k->hash & (n - 1)];
            b[k->hash & (n - 1)] = k;
        }
    }
    free(buckets);
    buckets = b;
    bucket_count = n;
    return true;
}

/* The flow whose key is k's bytes (k need not be in the index), or NULL. */
static struct flow *
index_find(const struct key *k)
{
    uint64_t h = yt_hash(k->bytes, k->len, seed);

    if (bucket_count == 0)
        return NULL;
    for (const struct key *e = buckets[h & (bucket_count - 1)]; e != NULL; e = e->next)
        if (e->hash == h && e->len == k->len && memcmp(e->bytes, k->bytes, k->len) == 0)
            return e->flow;
    return NULL;
}

/* Adds k (set, not in the index) for f; false when out of memory. */
static bool
index_add(struct flow *f, struct key *k)
{
    if (key_count >= bucket_count && !index_grow() && bucket_count == 0)
        return false;
    k->flow = f;
    k->hash = yt_hash(k->bytes, k->len, seed);
    k->next = buckets[k->hash & (bucket_count - 1)];
    buckets[k->hash & (bucket_count - 1)] = k;
    key_count++;
    return true;
}

static void
index_remove(struct key *k)
{
    struct key **p;

    if (k->len == 0 || bucket_count == 0)
        return;
    for (p = &buckets[k->hash & (bucket_count - 1)]; *p != NULL; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            key_count--;
            break;
        }
    }
    k->len = 0;
}

/* The flow a client datagram belongs to by the destination connection ID it carries: the
 * one the client chose for its first Initial, or one the flow's server chose. Short
 * headers do not say the ID's length: every length a server chose is tried. */
static struct flow *
find_by_cid(const uint8_t *d, size_t n)
{
    struct key k;

    if (n == 0)
        return NULL;
    if (d[0] & 0x80) {
        struct quic_cid dcid, scid;
        uint32_t version;

        if (quic_long_header_ids(d, n, &version, &dcid, &scid) == -1 || dcid.len == 0)
            return NULL;
        key_set_cid(&k, dcid.id, dcid.len);
        return index_find(&k);
    }
    for (size_t len = 1; len <= QUIC_CID_MAX && len < n; len++) {
        struct flow *f;

        if (!(cid_lengths & (1u << len)))
            continue;
        key_set_cid(&k, d + 1, len);
        if ((f = index_find(&k)) != NULL)
            return f;
    }
    return NULL;
}

/* ---- the end of a flow ---- */

static void
flow_fail(struct flow *f, char who, const char *err, int err_no)
{
    static const char state_letter[] = { 'R', 'D', 'R' };

    if (f->term[0] != 0)
        return;
    f->term[0] = who;
    f->term[1] = state_letter[f->state];
    f->err = err;
    f->err_no = err_no;
}

/* The flow's access line, as text or JSON (alog.h: json is a constant). */
static inline __attribute__((always_inline)) void
flow_log_line(ev_tstamp now, const struct flow *f, bool json)
{
    struct alog a;

    alog_l4_head(&a, json, table, f->id, &f->peer, f->l, f->sni, f->site, f->server,
                 f->bytes_c, f->bytes_s,
                 clock_ms_between(f->t_first, f->t_routed > 0 ? f->t_routed : now));
    alog_key(&a, json, " rebinds=", "rebinds");
    alog_u64(&a, f->rebinds);
    alog_l4_tail(&a, json, clock_ms_between(f->t_first, now), f->term, f->err, f->err_no);
}

static void
flow_log(struct ev_loop *loop, const struct flow *f)
{
    if ((f->l->flags & YT_LISTENER_DONTLOGNULL) && f->bytes_c == 0)
        return;
    if (!alog_wanted(f->l))
        return;
    if (f->l->flags & YT_LISTENER_LOG_JSON)
        flow_log_line(ev_now(loop), f, true);
    else
        flow_log_line(ev_now(loop), f, false);
}

static void
undecided_free(struct flow *f)
{
    if (f->u == NULL)
        return;
    free(f->u->held);
    free(f->u);
    f->u = NULL;
    undecided_count--;
}

/* The one place a flow is freed. */
static void
flow_free(struct ev_loop *loop, struct flow *f)
{
    flow_log(loop, f);
    stats_end(f->l, f->pool, f->server, f->bytes_c, f->bytes_s, f->term);
    index_remove(&f->addr_key);
    index_remove(&f->dcid_key);
    for (int i = 0; i < FLOW_CIDS; i++)
        index_remove(&f->cid_key[i]);
    ev_io_stop(loop, &f->io);
    if (f->io.fd != -1)
        close(f->io.fd);
    ev_timer_stop(loop, &f->timer);
    undecided_free(f);
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        flows = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    admit_leave();
    free(f->sni);
    free(f);
}

/* ---- timers ---- */

/* Until the server is chosen, and once refused: the inspect time from the first
 * datagram. Relaying: a client silent for `timeout client` or a server silent for
 * `timeout server` ends the flow; QUIC closes inside its encryption, so this is how every
 * flow ends. */
static ev_tstamp
flow_deadline(const struct flow *f, char *who)
{
    const struct yt_timeouts *to = &table->timeouts;
    ev_tstamp dc, ds;

    if (f->state != FLOW_RELAY) {
        *who = 'c';
        return deadline_after(f->t_first, to->inspect_ms);
    }
    dc = deadline_after(f->last_c, to->client_ms);
    ds = deadline_after(f->last_s, to->server_ms);
    *who = dc <= ds ? 'c' : 's';
    return deadline_min(dc, ds);
}

static void
timer_restart(struct ev_loop *loop, struct flow *f)
{
    char who;
    ev_tstamp left = flow_deadline(f, &who) - ev_now(loop);

    ev_timer_stop(loop, &f->timer);
    if (deadline_is_none(left))
        return;
    ev_timer_set(&f->timer, left > 0 ? left : 0, 0.);
    ev_timer_start(loop, &f->timer);
}

static void
flow_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct flow *f = w->data;
    char who;

    (void)revents;
    if (flow_deadline(f, &who) > ev_now(loop)) {
        timer_restart(loop, f);
        return;
    }
    if (f->state == FLOW_INSPECT)
        flow_fail(f, 'c', "inspect-timeout", 0);
    else if (f->state == FLOW_RELAY)
        f->term[0] = f->term[1] = '-';      /* idle: the usual end of a QUIC flow */
    flow_free(loop, f);
}

/* ---- relaying ---- */

/* Learns the connection ID the server chose from the long header of its datagram d
 * (Initial, Handshake, Retry: the Source Connection ID), so that the flow is found by it
 * once its client's address changes. */
static void
learn_server_cid(struct flow *f, const uint8_t *d, size_t n)
{
    struct quic_cid dcid, scid;
    uint32_t version;
    struct key k;

    if (quic_long_header_ids(d, n, &version, &dcid, &scid) == -1 || version == 0 ||
        scid.len == 0)
        return;
    key_set_cid(&k, scid.id, scid.len);
    if (index_find(&k) != NULL)
        return;                     /* this flow's already, or another's: keep the first */
    for (int i = 0; i < FLOW_CIDS; i++) {
        if (f->cid_key[i].len != 0)
            continue;
        f->cid_key[i] = k;
        if (index_add(f, &f->cid_key[i]))
            cid_lengths |= 1u << scid.len;
        else
            f->cid_key[i].len = 0;
        return;
    }
}

/* The server's datagrams, each sent on to the client from the listening socket it wrote
 * to, untouched. A datagram the client's socket cannot take now is dropped: QUIC
 * retransmits, as it does for any loss. */
static void
flow_server_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct flow *f = w->data;

    (void)revents;
    for (int i = 0; i < QUICRELAY_BURST; i++) {
        ssize_t n = recv(w->fd, dgram, sizeof(dgram), 0);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            /* ICMP port unreachable and the like: the server is not there. */
            if (f->bytes_s == 0)
                ups_server_down(&ups, loop, f->server);
            flow_fail(f, 'S', "read", errno);
            flow_free(loop, f);
            return;
        }
        if (f->bytes_s == 0)
            ups_server_up(&ups, f->server);
        f->bytes_s += (uint64_t)n;
        f->last_s = ev_now(loop);
        learn_server_cid(f, dgram, (size_t)n);
        if (sendto(f->lfd, dgram, (size_t)n, MSG_DONTWAIT, &f->peer.sa, f->peer_len) == -1 &&
            errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            log_msg(LOG_LEVEL_INFO, "quic: sendto client: %s", strerror(errno));
    }
}

/* Sends a client datagram to the server; a failure is a loss, for QUIC to recover. */
static void
to_server(struct flow *f, const uint8_t *d, size_t n)
{
    if (send(f->io.fd, d, n, MSG_DONTWAIT) == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
        errno != EINTR && errno != ECONNREFUSED)
        log_msg(LOG_LEVEL_INFO, "quic: send to server: %s", strerror(errno));
}

/* Opens the flow's socket to the next server of its pool that is up and sends it what the
 * client sent so far, in order: the held datagrams, then d[0..n). */
static void
flow_connect(struct ev_loop *loop, struct flow *f, const uint8_t *d, size_t n)
{
    const struct undecided *u = f->u;
    int fd;

    f->server = pool_pick(&ups.health, f->pool, clock_ms(loop));
    if (f->server == YT_NONE) {
        flow_fail(f, 'S', "no-server", 0);
        return;
    }
    fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        if (errno == EMFILE || errno == ENFILE)
            admit_out_of_fds("socket", errno);
        flow_fail(f, 'R', "socket", errno);
        return;
    }
    if (connect(fd, (const struct sockaddr *)&table->servers[f->server].addr,
                sizeof(table->servers[f->server].addr)) == -1) {
        flow_fail(f, 'S', "connect", errno);
        close(fd);
        return;
    }
    ev_io_set(&f->io, fd, EV_READ);
    ev_io_start(loop, &f->io);
    for (uint32_t off = 0; u != NULL && off + 2 <= u->held_len;) {
        size_t len = (size_t)u->held[off] << 8 | u->held[off + 1];

        to_server(f, u->held + off + 2, len);
        off += 2 + (uint32_t)len;
    }
    to_server(f, d, n);
    f->state = FLOW_RELAY;
    f->last_c = f->last_s = ev_now(loop);
    timer_restart(loop, f);
}

/* Keeps a datagram of the client until the server is chosen; false when the flow holds
 * too much already. */
static bool
hold(struct undecided *u, const uint8_t *d, size_t n)
{
    uint32_t need = u->held_len + 2 + (uint32_t)n;

    if (n > UINT16_MAX || need > QUICRELAY_HOLD_MAX)
        return false;
    if (need > u->held_cap) {
        uint32_t cap = u->held_cap ? u->held_cap : 4096;
        uint8_t *p;

        while (cap < need)
            cap *= 2;
        if (cap > QUICRELAY_HOLD_MAX)
            cap = QUICRELAY_HOLD_MAX;
        if ((p = realloc(u->held, cap)) == NULL)
            return false;
        u->held = p;
        u->held_cap = cap;
    }
    u->held[u->held_len] = (uint8_t)(n >> 8);
    u->held[u->held_len + 1] = (uint8_t)n;
    memcpy(u->held + u->held_len + 2, d, n);
    u->held_len = need;
    return true;
}

/* The flow is refused: its datagrams are dropped until it times out. */
static void
flow_refuse(struct flow *f, const char *err)
{
    flow_fail(f, 'P', err, 0);
    f->state = FLOW_REFUSED;
    undecided_free(f);
}

/* The ClientHello in qf is whole: choose the server and send it d[0..n) after what the
 * flow held, or refuse the flow. */
static void
flow_route(struct ev_loop *loop, struct flow *f, const struct quic_flow *qf,
           enum quic_result r, const uint8_t *d, size_t n)
{
    struct yt_decision dec;

    if (r == QUIC_FOUND)
        f->sni = strndup(qf->host, qf->host_len);
    dec = yt_resolve(table, f->l, r == QUIC_FOUND ? qf->host : NULL, qf->host_len, NULL, 0);
    f->site = dec.site;
    f->t_routed = ev_now(loop);
    if (dec.action != YT_ACT_POOL) {
        flow_refuse(f, r == QUIC_FOUND ? "unknown-name" : "no-sni");
        return;
    }
    if (r == QUIC_NO_SNI)
        f->err = "no-sni";
    f->pool = dec.pool;
    flow_connect(loop, f, d, n);
    undecided_free(f);
}

/* Makes qf (a flow's first datagrams, read outside it) the flow's own. */
static bool
undecided_new(struct flow *f, const struct quic_flow *qf)
{
    if (undecided_count >= QUICRELAY_UNDECIDED_MAX || (f->u = malloc(sizeof(*f->u))) == NULL)
        return false;
    memcpy(&f->u->qf, qf, sizeof(*qf));
    f->u->held = NULL;
    f->u->held_len = f->u->held_cap = 0;
    undecided_count++;
    return true;
}

/* What quic_feed() said of the client's datagram d[0..n), which it read into qf: route,
 * refuse, or hold the datagram until the hello is whole. */
static void
flow_verdict(struct ev_loop *loop, struct flow *f, const struct quic_flow *qf,
             enum quic_result r, const uint8_t *d, size_t n)
{
    if (r == QUIC_FOUND || r == QUIC_NO_SNI)
        flow_route(loop, f, qf, r, d, n);
    else if (quic_is_final(r))
        flow_refuse(f, r == QUIC_ERR_HELLO ? sni_result_str(qf->sni) : quic_result_str(r));
    else if (f->u == NULL && !undecided_new(f, qf))
        flow_refuse(f, "no-memory");
    else if (!hold(f->u, d, n))
        flow_refuse(f, "too-large");
}

/* A datagram of a flow whose server is not chosen yet. Returns false when the datagram is
 * refused and the flow not changed by it. */
static bool
flow_inspect(struct ev_loop *loop, struct flow *f, const uint8_t *d, size_t n)
{
    enum quic_result r = quic_feed(&f->u->qf, d, n);

    /* Handshake or 0-RTT packets in a datagram of their own come after the Initials and
     * go to the server with them. Other refused datagrams are damaged or forged. */
    if (!quic_is_final(r) && r != QUIC_NEED_MORE && r != QUIC_ERR_NOT_INITIAL)
        return false;
    flow_verdict(loop, f, &f->u->qf, r, d, n);
    return true;
}

/* A new flow of listener l for a client, started: indexed by the client's address,
 * counted, timed; or NULL (out of memory). */
static struct flow *
flow_new(struct ev_loop *loop, int lfd, const struct yt_listener *l, const union yt_addr *peer,
         socklen_t peer_len)
{
    struct flow *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    ev_io_init(&f->io, flow_server_cb, -1, EV_READ);
    f->io.data = f;
    ev_timer_init(&f->timer, flow_timer_cb, 0., 0.);
    f->timer.data = f;
    f->l = l;
    f->lfd = lfd;
    f->peer = *peer;
    f->peer_len = peer_len;
    f->site = f->pool = f->server = YT_NONE;
    f->t_first = ev_now(loop);
    f->state = FLOW_INSPECT;
    key_set_addr(&f->addr_key, f->lfd, &f->peer);
    if (!index_add(f, &f->addr_key)) {
        free(f);
        return NULL;
    }
    f->id = stats_next_id();
    f->next = flows;
    if (flows != NULL)
        flows->prev = f;
    flows = f;
    admit_enter();
    stats_accept(f->l);
    timer_restart(loop, f);
    return f;
}

/* A datagram from an address no flow has, found by none of its connection IDs either:
 * the first of a new client connection, or refused. It is read first into one scratch
 * flow: a hello in one datagram (most) is routed without the memory of an undecided flow.
 * A datagram that starts no connection (damaged, forged, a short header of a flow we do
 * not know, a client past maxconn) costs no flow and no log line: it is only counted. */
static void
first_datagram(struct ev_loop *loop, int lfd, const struct yt_listener *l,
               const union yt_addr *peer, socklen_t plen, const uint8_t *d, size_t n)
{
    static struct quic_flow scratch;
    uint8_t vn[QUIC_VN_MAX];
    size_t vn_len = quic_version_negotiation(d, n, vn, sizeof(vn));
    enum quic_result r;
    struct flow *f;

    /* A version we cannot read: the client is told which we can (RFC 9000 §6). */
    if (vn_len > 0)
        (void)sendto(lfd, vn, vn_len, MSG_DONTWAIT, &peer->sa, plen);
    /* A connection starts with a long header in 1200 bytes or more (RFC 9000 §14.1):
     * anything else is refused before the scratch flow is cleared for it. */
    if (vn_len > 0 || n < QUIC_INITIAL_DATAGRAM_MIN || !(d[0] & 0x80)) {
        r = QUIC_ERR_SHORT_DATAGRAM;
    } else {
        quic_flow_init(&scratch);
        r = quic_feed(&scratch, d, n);
    }
    if ((!quic_is_final(r) && r != QUIC_NEED_MORE) || admit_live() >= admit_maxconn() ||
        (r == QUIC_NEED_MORE && undecided_count >= QUICRELAY_UNDECIDED_MAX) ||
        (f = flow_new(loop, lfd, l, peer, plen)) == NULL) {
        stats_end(l, YT_NONE, YT_NONE, n, 0, "PR");
        return;
    }
    f->bytes_c = n;
    f->last_c = ev_now(loop);
    key_set_cid(&f->dcid_key, scratch.dcid.id, scratch.dcid.len);
    if (index_find(&f->dcid_key) != NULL || !index_add(f, &f->dcid_key))
        f->dcid_key.len = 0;        /* another listening socket's flow has it */
    flow_verdict(loop, f, &scratch, r, d, n);
    if (f->term[0] != 0 && f->state != FLOW_REFUSED)
        flow_free(loop, f);
}

/* f's client wrote from another address (NAT rebinding, migration): replies go there. */
static void
flow_rebind(struct flow *f, const union yt_addr *peer, socklen_t plen)
{
    struct key k;

    key_set_addr(&k, f->lfd, peer);
    index_remove(&f->addr_key);
    f->addr_key = k;
    if (!index_add(f, &f->addr_key))
        f->addr_key.len = 0;
    f->peer = *peer;
    f->peer_len = plen;
    f->rebinds++;
}

/* Whether d[0..n), from an address that has a flow but carrying no CID of it, is rather
 * the first datagram of another connection from that address: a long header with a DCID
 * long enough to be a client's first (RFC 9000 §7.2). */
static bool
starts_other_connection(const uint8_t *d, size_t n)
{
    struct quic_cid dcid, scid;
    uint32_t version;

    return quic_long_header_ids(d, n, &version, &dcid, &scid) == 0 &&
           dcid.len >= QUIC_INITIAL_DCID_MIN;
}

/* A datagram from a client: its flow is found by the DCID it carries, else (servers
 * with zero-length CIDs) by the client's address. A flow found by its CID from a new
 * address follows its client there (NAT rebinding, migration on the same CID). */
static void
client_datagram(struct ev_loop *loop, int lfd, const struct yt_listener *l,
                const union yt_addr *peer, socklen_t plen, const uint8_t *d, size_t n)
{
    struct key k;
    struct flow *f = find_by_cid(d, n);

    key_set_addr(&k, lfd, peer);
    if (f != NULL && f->lfd != lfd)
        f = NULL;                   /* another listening socket's: not this one's */
    if (f == NULL) {
        f = index_find(&k);
        if (f != NULL && starts_other_connection(d, n))
            f = NULL;
    } else if (f->addr_key.len != k.len || memcmp(f->addr_key.bytes, k.bytes, k.len) != 0) {
        flow_rebind(f, peer, plen);
    }
    if (f == NULL) {
        first_datagram(loop, lfd, l, peer, plen, d, n);
        return;
    }
    switch (f->state) {
    case FLOW_INSPECT:
        if (!flow_inspect(loop, f, d, n)) {
            stats_end(l, YT_NONE, YT_NONE, 0, 0, "PR");
            return;
        }
        break;
    case FLOW_RELAY:
        to_server(f, d, n);
        break;
    default:
        break;                      /* refused: dropped until the flow times out */
    }
    f->bytes_c += n;
    f->last_c = ev_now(loop);
    if (f->term[0] != 0 && f->state != FLOW_REFUSED)
        flow_free(loop, f);
}

void
quicrelay_read(struct ev_loop *loop, int fd, const struct yt_listener *l)
{
    for (int i = 0; i < QUICRELAY_BURST; i++) {
        union yt_addr peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = recvfrom(fd, dgram, sizeof(dgram), 0, &peer.sa, &plen);

        if (n == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_msg(LOG_LEVEL_WARNING, "quic: recvfrom: %s", strerror(errno));
            return;
        }
        if (n == 0 || plen > sizeof(peer))
            continue;
        client_datagram(loop, fd, l, &peer, plen, dgram, (size_t)n);
    }
}

void
quicrelay_close_all(struct ev_loop *loop)
{
    while (flows != NULL) {
        flow_fail(flows, 'P', "shutdown", 0);
        flow_free(loop, flows);
    }
}
