#include "krelay.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "krelay.skel.h"        /* krelay.bpf.c, compiled: the program and its maps */
#include "log.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* Each map of a worker's set holds one entry per connection of the worker; twice its
 * maxconn leaves room for entries on their way out. */
#define ENTRIES_MAX (1u << 21)

/* One worker's relay. Every worker has its own, made before the fork (loading needs the
 * privileges workers drop), so that the reports of a connection reach its worker. The
 * program takes the bytes of the senders in rx and sends them to their receivers in tx;
 * a connection's sockets are in both, one for each direction (see krelay.h). */
struct krelay {
    struct krelay_bpf *bpf;         /* the program and its maps, as libbpf loaded them */
    int links, ctls, rx, tx, ring;  /* the maps' descriptors (bpf's) */
    uint64_t *ring_cons;            /* the ring buffer's consumer position (ours to move) */
    const uint64_t *ring_prod;      /* the producer's, */
    const uint8_t *ring_data;       /* then the records, mapped twice in a row */
};

static struct krelay *relays, *self;
static uint32_t relay_count;

/* The kept bytes user space may leave unread (krelay.bpf.c): twice the most a receive
 * buffer holds (net.ipv4.tcp_rmem's last figure, read at load), which the window lets in
 * with as much in flight, and 2 MiB for the bytes user space read since it last told the
 * program (at a report, every MiB kept). Kept bytes that wait behind others are not
 * counted in the receive buffer: in an echo of 64 MiB, 3.2 MB of them with a receive
 * buffer of 554 KiB. */
static uint64_t keep_max = 64u << 20;

static void
keep_max_load(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_rmem", "re");
    unsigned long long lo, def, hi;

    if (f == NULL)
        return;
    if (fscanf(f, "%llu %llu %llu", &lo, &def, &hi) == 3 && hi > 0 && hi < (1ull << 40))
        keep_max = 2 * (uint64_t)hi + (2u << KRELAY_REPORT_SHIFT);
    fclose(f);
}

/* ---- loading ---- */

/* What libbpf warned of while loading a relay, one message after the other: it names
 * what failed. Logged only when loading failed for another reason than missing rights;
 * without them, the one line that says which relay is in use says it all. */
static char libbpf_said[LOG_WHOLE_MAX];
static size_t libbpf_said_len;

__attribute__((format(printf, 2, 0))) static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    size_t room = sizeof(libbpf_said) - libbpf_said_len;
    int n;

    if (level != LIBBPF_WARN || room <= 1)
        return 0;
    n = vsnprintf(libbpf_said + libbpf_said_len, room, fmt, ap);
    if (n > 0)
        libbpf_said_len += (size_t)n < room ? (size_t)n : room - 1;
    return 0;
}

/* Logs what libbpf warned of, on one line, unless loading failed for want of rights. */
static void
libbpf_log(int err)
{
    if (err == EPERM)
        return;
    while (libbpf_said_len > 0 && libbpf_said[libbpf_said_len - 1] == '\n')
        libbpf_said[--libbpf_said_len] = '\0';
    for (size_t i = 0; i < libbpf_said_len; i++)
        if (libbpf_said[i] == '\n')
            libbpf_said[i] = ' ';
    if (libbpf_said_len > 0)
        log_msg(LOG_LEVEL_INFO, "%s", libbpf_said);
}

/* Maps the ring buffer: the consumer's page (writable), then the producer's page and the
 * data, which the kernel maps twice so that a record is contiguous where it wraps. The
 * records are read here, one per krelay_report(), rather than through libbpf's
 * ring_buffer, which takes them all at once through a callback. */
static int
ring_map(struct krelay *r)
{
    long page = sysconf(_SC_PAGESIZE);
    void *cons, *prod;

    cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, r->ring, 0);
    if (cons == MAP_FAILED)
        return -1;
    prod = mmap(NULL, (size_t)page + 2 * KRELAY_RING_SIZE, PROT_READ, MAP_SHARED, r->ring,
                page);
    if (prod == MAP_FAILED) {
        munmap(cons, (size_t)page);
        return -1;
    }
    r->ring_cons = cons;
    r->ring_prod = prod;
    r->ring_data = (const uint8_t *)prod + page;
    return 0;
}

/* Loads the program and makes its maps, the hash maps and sockhashes with room for
 * entries each. When the verifier refuses the program, logs what it said. Returns 0, or
 * -1 (errno). */
static int
load_object(struct krelay_bpf *b, uint32_t entries)
{
    struct bpf_map *sized[] = { b->maps.links, b->maps.ctls, b->maps.rx, b->maps.tx };
    char log[4096] = "";
    int e;

    for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++)
        if (bpf_map__set_max_entries(sized[i], entries) != 0)
            return -1;
    b->rodata->keep_max = keep_max;
    bpf_program__set_log_buf(b->progs.krelay_verdict, log, sizeof(log));
    e = -krelay_bpf__load(b);
    if (e == 0)
        return 0;
    if (e != EPERM && log[0] != '\0')
        log_msg(LOG_LEVEL_INFO, "bpf verifier: %s", log);
    errno = e;
    return -1;
}

/* Makes one relay's maps and program. Returns NULL, or the step that failed (errno set). */
static const char *
load(struct krelay *r, uint32_t entries)
{
    r->bpf = krelay_bpf__open();
    if (r->bpf == NULL)
        return "bpf object";
    if (load_object(r->bpf, entries) == -1)
        return "bpf load";
    r->links = bpf_map__fd(r->bpf->maps.links);
    r->ctls = bpf_map__fd(r->bpf->maps.ctls);
    r->rx = bpf_map__fd(r->bpf->maps.rx);
    r->tx = bpf_map__fd(r->bpf->maps.tx);
    r->ring = bpf_map__fd(r->bpf->maps.ring);
    if (ring_map(r) == -1)
        return "bpf ring buffer";
    if (bpf_prog_attach(bpf_program__fd(r->bpf->progs.krelay_verdict), r->rx,
                        BPF_SK_SKB_STREAM_VERDICT, 0) != 0)
        return "bpf attach";
    return NULL;
}

static void
close_all(void)
{
    for (uint32_t i = 0; i < relay_count; i++)
        krelay_bpf__destroy(relays[i].bpf);     /* closes the maps and the program */
    free(relays);
    relays = NULL;
    relay_count = 0;
}

/* What SWITCHYARD_RELAY chooses for every listener, or YT_RELAY_COUNT when it names none. */
static uint32_t relay_forced = YT_RELAY_COUNT;

static uint32_t
relay_from_env(void)
{
    const char *env = getenv("SWITCHYARD_RELAY");

    for (uint32_t i = 0; env != NULL && i < YT_RELAY_COUNT; i++)
        if (strcmp(env, yt_relay_names[i]) == 0)
            return i;
    return YT_RELAY_COUNT;
}

/* A tls or http listener's configured choice (its own, or the global's), unless
 * SWITCHYARD_RELAY names another one. */
static uint32_t
relay_wanted(const struct yt_listener *l)
{
    return relay_forced < YT_RELAY_COUNT ? relay_forced :
           l->relay < YT_RELAY_COUNT ? l->relay : YT_RELAY_USER;
}

/* Writes to names[size] the names of t's tls and http listeners that want the user space
 * relay (user) or not, ", " between them, ending in "..." when they do not fit: the log line
 * that says which listeners use which stays short. */
static void
relay_names(char *names, size_t size, const struct yt_table *t, bool user)
{
    size_t n = 0;

    names[0] = '\0';
    for (uint32_t i = 0; i < t->listener_count && n < size; i++) {
        const struct yt_listener *l = &t->listeners[i];
        int w;

        if (!yt_mode_relays(l->mode) || (relay_wanted(l) == YT_RELAY_USER) != user)
            continue;
        w = snprintf(names + n, size - n, "%s%.*s", n > 0 ? ", " : "", (int)l->name.len,
                     t->blob + l->name.off);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n >= size)
        memcpy(names + size - 4, "...", 4);
}

bool
krelay_load(const struct yt_table *t)
{
    uint32_t workers = t->global.workers ? t->global.workers : 1, count[YT_RELAY_COUNT] = { 0 };
    uint64_t entries = 2ull * t->global.maxconn;
    const char *failed = NULL;
    char kernel[80], user[80];

    relay_forced = relay_from_env();
    for (uint32_t i = 0; i < t->listener_count; i++)
        if (yt_mode_relays(t->listeners[i].mode))
            count[relay_wanted(&t->listeners[i])]++;
    if (count[YT_RELAY_KERNEL] + count[YT_RELAY_AUTO] == 0) {
        log_msg(LOG_LEVEL_INFO, "relay: user (configured)");
        return false;
    }
    libbpf_set_print(libbpf_print);
    keep_max_load();
    relays = calloc(workers, sizeof(*relays));
    if (relays == NULL)
        failed = "memory";
    for (uint32_t i = 0; failed == NULL && i < workers; i++) {
        relays[i] = (struct krelay){ NULL, -1, -1, -1, -1, -1, NULL, NULL, NULL };
        relay_count = i + 1;
        failed = load(&relays[i], entries < ENTRIES_MAX ? (uint32_t)entries : ENTRIES_MAX);
    }
    if (failed != NULL) {
        int e = errno;

        close_all();
        libbpf_log(e);
        log_msg(count[YT_RELAY_KERNEL] > 0 ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
                "relay: user (%s: %s)", failed, strerror(e));
        return false;
    }
    self = &relays[0];
    if (count[YT_RELAY_USER] == 0) {
        log_msg(LOG_LEVEL_INFO, "relay: kernel (sockmap)");
        return true;
    }
    relay_names(kernel, sizeof(kernel), t, false);
    relay_names(user, sizeof(user), t, true);
    log_msg(LOG_LEVEL_INFO, "relay: kernel (sockmap) for %s; user for %s", kernel, user);
    return true;
}

bool
krelay_listener_on(const struct yt_listener *l)
{
    return self != NULL && relay_wanted(l) != YT_RELAY_USER;
}

void
krelay_use(uint32_t worker)
{
    if (worker < relay_count)
        self = &relays[worker];
}

int
krelay_ring(void)
{
    return self->ring;
}

bool
krelay_report(uint64_t *tag)
{
    uint64_t cons = *self->ring_cons;

    while (cons < __atomic_load_n(self->ring_prod, __ATOMIC_ACQUIRE)) {
        const uint8_t *rec = self->ring_data + (cons & (KRELAY_RING_SIZE - 1));
        uint32_t len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
        bool ours;

        if (len & BPF_RINGBUF_BUSY_BIT)
            break;                  /* being written: the next call takes it */
        ours = len == sizeof(*tag); /* not discarded, and a tag */
        len &= ~(uint32_t)BPF_RINGBUF_DISCARD_BIT;
        if (ours)
            memcpy(tag, rec + BPF_RINGBUF_HDR_SZ, sizeof(*tag));
        cons += (BPF_RINGBUF_HDR_SZ + len + 7) & ~7u;
        __atomic_store_n(self->ring_cons, cons, __ATOMIC_RELEASE);
        if (ours)
            return true;
    }
    return false;
}

/* libbpf's map calls return 0, or -errno with errno set: these return 0 or -1. */
static int
map_update(int map, const void *key, const void *value, uint64_t flags)
{
    return bpf_map_update_elem(map, key, value, flags) == 0 ? 0 : -1;
}

static int
link_get(const struct krelay_pair *p, struct krelay_sender *s)
{
    return bpf_map_lookup_elem(self->links, &p->from, s) == 0 ? 0 : -1;
}

int
krelay_stat(const struct krelay_pair *p, struct krelay_stat *st)
{
    struct krelay_sender s;

    if (link_get(p, &s) == -1)
        return -1;
    st->bytes = s.bytes;
    st->held = s.held;
    st->last_ns = s.last_ns;
    st->gone = s.gone != 0;
    st->broken = (uint8_t)s.broken;
    return 0;
}

int
krelay_allow(struct krelay_pair *p, uint64_t relayed, uint64_t limit)
{
    p->ctl.relayed = relayed;
    p->ctl.limit = limit;
    return map_update(self->ctls, &p->from, &p->ctl, BPF_ANY);
}

int
krelay_read(struct krelay_pair *p, uint64_t read)
{
    p->ctl.read = read;
    return map_update(self->ctls, &p->from, &p->ctl, BPF_ANY);
}

static int
socket_add(int map, uint64_t cookie, int fd)
{
    uint64_t v = (uint64_t)fd;

    return map_update(map, &cookie, &v, BPF_NOEXIST);
}

/* Puts the sender in the sockhash the program reads, and signals it what waits in its
 * receive queue already: bytes that came after the caller saw none unread and before the
 * program was on (setting the low-water mark does, tcp_set_rcvlowat()). */
static int
sender_add(const struct krelay_pair *p, int fd)
{
    int one = 1;

    if (socket_add(self->rx, p->from, fd) == -1)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
    return 0;
}

int
krelay_link(struct krelay_pair *p, int from, int to, uint64_t tag, uint64_t limit)
{
    socklen_t len = sizeof(uint64_t);
    struct krelay_sender s = { .tag = tag };
    int e;

    if (getsockopt(from, SOL_SOCKET, SO_COOKIE, &p->from, &len) == -1 ||
        getsockopt(to, SOL_SOCKET, SO_COOKIE, &p->to, &len) == -1)
        return -1;
    s.peer = p->to;
    p->ctl = (struct krelay_ctl){ 0 };
    if (map_update(self->links, &p->from, &s, BPF_NOEXIST) == -1)
        return -1;
    if (krelay_allow(p, 0, limit) == -1)
        goto undo;
    /* The receiver first: from the sender's first byte on, it is there to take it. */
    if (socket_add(self->tx, p->to, to) == -1)
        goto undo;
    if (sender_add(p, from) == 0)
        return 0;
    e = errno;
    bpf_map_delete_elem(self->tx, &p->to);
    errno = e;
undo:
    e = errno;
    krelay_unlink(p);
    errno = e;
    return -1;
}

int64_t
krelay_taken(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int queued;

    /* Acknowledged first, then what is queued: an ack in between only makes the sum
     * smaller, so it never reaches what was written before the socket has taken all. */
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
        ioctl(fd, SIOCOUTQ, &queued) == -1)
        return -1;
    return (int64_t)(ti.tcpi_bytes_acked + (uint64_t)queued);
}

int64_t
krelay_backlog(int fd, uint64_t want)
{
    int64_t taken = krelay_taken(fd);

    if (taken == -1)
        return -1;
    return (uint64_t)taken >= want ? 0 : (int64_t)(want - (uint64_t)taken);
}

void
krelay_kick(int fd)
{
    int lowat = 0;
    socklen_t len = sizeof(lowat);

    /* Setting TCP_NOTSENT_LOWAT calls the socket's write_space, which the kernel relay
     * hooks to schedule its worker; set to what it is, it changes nothing else. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, &len) == 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
}

void
krelay_unlink(const struct krelay_pair *p)
{
    bpf_map_delete_elem(self->links, &p->from);
    bpf_map_delete_elem(self->ctls, &p->from);
}
