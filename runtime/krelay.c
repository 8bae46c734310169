#include "krelay.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* What the program keeps per sender, keyed by its cookie: the receiver's cookie (its key
 * in the sockhash of receivers), the bytes it redirected, when it last took some, whether
 * a redirect failed (the receiver had left the sockhash: its socket closed), the tag user
 * space gave it for the reports, and the bytes it kept in the sender for user space. */
struct link {
    uint64_t peer;
    uint64_t bytes;
    uint64_t last_ns;
    uint64_t gone;
    uint64_t tag;
    uint64_t held;
};

/* What user space says of a sender, keyed by its cookie: how many of the bytes the
 * program kept it has relayed so far, and up to how many bytes in all the program may
 * redirect (user space raises it as the receiver takes them). The program redirects
 * again only once all it kept has been relayed: no byte overtakes another. */
struct ctl {
    uint64_t relayed;
    uint64_t limit;
};

/* Each map of a worker's set holds one entry per connection of the worker; twice its
 * maxconn leaves room for entries on their way out. */
#define ENTRIES_MAX (1u << 21)
#define RING_SIZE (64u << 10)       /* a power of two, a multiple of the page size */

/* One worker's relay. Every worker has its own, made before the fork (loading needs the
 * privileges workers drop), so that the reports of a connection reach its worker. The
 * program takes the bytes of the senders in rx and sends them to their receivers in tx;
 * a socket is never in both (see krelay.h). */
struct krelay {
    int links, ctls, rx, tx, ring, prog;
    uint64_t *ring_cons;            /* the ring buffer's consumer position (ours to move) */
    const uint64_t *ring_prod;      /* the producer's, */
    const uint8_t *ring_data;       /* then the records, mapped twice in a row */
};

static struct krelay *relays, *self;
static uint32_t relay_count;

static long
sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* ---- the program ---- */

#define INSN(c, d, s, o, i) \
    ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ADD_REG(d, s) INSN(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define RSH_IMM(d, i) INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define LOAD_MAP(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), \
    INSN(0, 0, 0, 0, 0)
#define STORE64(d, o, s) INSN(BPF_STX | BPF_DW | BPF_MEM, d, s, o, 0)
#define LOAD64(d, s, o) INSN(BPF_LDX | BPF_DW | BPF_MEM, d, s, o, 0)
#define LOAD32(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define FETCH_ADD64(d, o, s) INSN(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, o, BPF_ADD | BPF_FETCH)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_REG(d, s, o) INSN(BPF_JMP | BPF_JEQ | BPF_X, d, s, o, 0)
#define JNE_REG(d, s, o) INSN(BPF_JMP | BPF_JNE | BPF_X, d, s, o, 0)
#define JGT_REG(d, s, o) INSN(BPF_JMP | BPF_JGT | BPF_X, d, s, o, 0)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The stream verdict, for every chunk a socket of rx receives:
 *
 *     if (skb->len == 0) return SK_DROP;       // a FIN: user space passes it on
 *     struct link *l = lookup(links, get_socket_cookie(skb));
 *     if (l == NULL || l->gone) return SK_PASS;   // kept in the socket
 *     l->last_ns = ktime_get_ns();
 *     struct ctl *c = lookup(ctls, get_socket_cookie(skb));
 *     if (c == NULL) return SK_PASS;
 *     if (c->relayed != l->held) {            // user space relays: keep for it
 *         l->held += skb->len;
 *         return SK_PASS;
 *     }
 *     if (l->bytes + skb->len > c->limit) {   // the peer is behind: keep, and report
 *         l->held += skb->len;
 *         goto report;
 *     }
 *     old = fetch_add(&l->bytes, skb->len);
 *     if (sk_redirect_hash(skb, tx, &l->peer, 0) != SK_PASS)
 *         l->gone = 1;                        // kept, and reported
 *     else if (old >> KRELAY_REPORT_SHIFT == (old + skb->len) >> KRELAY_REPORT_SHIFT)
 *         return SK_PASS;                     // to the peer's send queue
 * report:
 *     ringbuf_output(ring, &l->tag, 8, 0);
 *     return SK_PASS;
 *
 * A chunk kept (SK_PASS without a redirect) waits in the socket, for recv(), and counts
 * against its receive buffer: the window closes when that is full. Chunks of one socket
 * go through the program one at a time (under the socket's lock), so its counts need no
 * atomic operation; bytes, which user space reads meanwhile, gets one all the same.
 * Written as instructions so that building the proxy needs no BPF compiler; the comments
 * give each jump's target. */
static int
prog_load(const struct krelay *r, char *log, size_t log_size)
{
    struct bpf_insn insns[] = {
        MOV_REG(BPF_REG_6, BPF_REG_1),                              /* 0 */
        LOAD32(BPF_REG_8, BPF_REG_6, offsetof(struct __sk_buff, len)),
        JEQ_IMM(BPF_REG_8, 0, 63),                                  /* to 66: a FIN */
        MOV_REG(BPF_REG_1, BPF_REG_6),
        CALL(BPF_FUNC_get_socket_cookie),
        STORE64(BPF_REG_10, -8, BPF_REG_0),                         /* 5 */
        LOAD_MAP(BPF_REG_1, r->links),
        MOV_REG(BPF_REG_2, BPF_REG_10),                             /* 8 */
        ADD_IMM(BPF_REG_2, -8),
        CALL(BPF_FUNC_map_lookup_elem),                             /* 10 */
        JEQ_IMM(BPF_REG_0, 0, 52),                                  /* to 64: kept */
        MOV_REG(BPF_REG_7, BPF_REG_0),
        LOAD64(BPF_REG_1, BPF_REG_7, offsetof(struct link, gone)),
        JNE_IMM(BPF_REG_1, 0, 49),                                  /* to 64: kept */
        CALL(BPF_FUNC_ktime_get_ns),                                /* 15 */
        STORE64(BPF_REG_7, offsetof(struct link, last_ns), BPF_REG_0),
        LOAD_MAP(BPF_REG_1, r->ctls),
        MOV_REG(BPF_REG_2, BPF_REG_10),                             /* 19 */
        ADD_IMM(BPF_REG_2, -8),
        CALL(BPF_FUNC_map_lookup_elem),
        JEQ_IMM(BPF_REG_0, 0, 41),                                  /* to 64: kept */
        LOAD64(BPF_REG_2, BPF_REG_7, offsetof(struct link, held)),
        LOAD64(BPF_REG_1, BPF_REG_0, offsetof(struct ctl, relayed)),
        JNE_REG(BPF_REG_1, BPF_REG_2, 28),                          /* to 54: keep */
        LOAD64(BPF_REG_1, BPF_REG_7, offsetof(struct link, bytes)), /* 26 */
        ADD_REG(BPF_REG_1, BPF_REG_8),
        LOAD64(BPF_REG_3, BPF_REG_0, offsetof(struct ctl, limit)),
        JGT_REG(BPF_REG_1, BPF_REG_3, 21),                          /* to 51: keep, report */
        MOV_REG(BPF_REG_9, BPF_REG_8),                              /* 30: redirect */
        FETCH_ADD64(BPF_REG_7, offsetof(struct link, bytes), BPF_REG_9),
        LOAD64(BPF_REG_1, BPF_REG_7, offsetof(struct link, peer)),
        STORE64(BPF_REG_10, -16, BPF_REG_1),
        MOV_REG(BPF_REG_1, BPF_REG_6),
        LOAD_MAP(BPF_REG_2, r->tx),                                 /* 35 */
        MOV_REG(BPF_REG_3, BPF_REG_10),                             /* 37 */
        ADD_IMM(BPF_REG_3, -16),
        MOV_IMM(BPF_REG_4, 0),
        CALL(BPF_FUNC_sk_redirect_hash),                            /* 40 */
        JEQ_IMM(BPF_REG_0, SK_PASS, 3),                             /* to 45: redirected */
        MOV_IMM(BPF_REG_1, 1),
        STORE64(BPF_REG_7, offsetof(struct link, gone), BPF_REG_1),
        JA(12),                                                     /* to 57: report */
        MOV_REG(BPF_REG_1, BPF_REG_9),                              /* 45: redirected */
        RSH_IMM(BPF_REG_1, KRELAY_REPORT_SHIFT),
        ADD_REG(BPF_REG_9, BPF_REG_8),
        RSH_IMM(BPF_REG_9, KRELAY_REPORT_SHIFT),
        JEQ_REG(BPF_REG_1, BPF_REG_9, 14),                          /* to 64: kept */
        JA(6),                                                      /* 50: to 57: report */
        ADD_REG(BPF_REG_2, BPF_REG_8),                              /* 51: keep, report */
        STORE64(BPF_REG_7, offsetof(struct link, held), BPF_REG_2),
        JA(3),                                                      /* to 57: report */
        ADD_REG(BPF_REG_2, BPF_REG_8),                              /* 54: keep */
        STORE64(BPF_REG_7, offsetof(struct link, held), BPF_REG_2), /* 55 */
        JA(7),                                                      /* to 64: kept */
        LOAD_MAP(BPF_REG_1, r->ring),                               /* 57: report */
        MOV_REG(BPF_REG_2, BPF_REG_7),                              /* 59 */
        ADD_IMM(BPF_REG_2, offsetof(struct link, tag)),             /* 60 */
        MOV_IMM(BPF_REG_3, sizeof(uint64_t)),
        MOV_IMM(BPF_REG_4, 0),
        CALL(BPF_FUNC_ringbuf_output),
        MOV_IMM(BPF_REG_0, SK_PASS),                                /* 64: kept */
        EXIT(),                                                     /* 65 */
        MOV_IMM(BPF_REG_0, SK_DROP),                                /* 66: a FIN */
        EXIT(),
    };
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_SK_SKB;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
    a.license = (uint64_t)(uintptr_t)"GPL";
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = (uint32_t)log_size;
    a.log_level = log != NULL ? 1 : 0;
    return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

static int
map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries,
           uint32_t flags)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_type = type;
    a.key_size = key_size;
    a.value_size = value_size;
    a.max_entries = entries;
    a.map_flags = flags;
    return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static int
prog_attach(const struct krelay *r)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)r->rx;
    a.attach_bpf_fd = (uint32_t)r->prog;
    a.attach_type = BPF_SK_SKB_STREAM_VERDICT;
    return (int)sys_bpf(BPF_PROG_ATTACH, &a);
}

/* Maps the ring buffer: the consumer's page (writable), then the producer's page and the
 * data, which the kernel maps twice so that a record is contiguous where it wraps. */
static int
ring_map(struct krelay *r)
{
    long page = sysconf(_SC_PAGESIZE);
    void *cons, *prod;

    cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, r->ring, 0);
    if (cons == MAP_FAILED)
        return -1;
    prod = mmap(NULL, (size_t)page + 2 * RING_SIZE, PROT_READ, MAP_SHARED, r->ring, page);
    if (prod == MAP_FAILED) {
        munmap(cons, (size_t)page);
        return -1;
    }
    r->ring_cons = cons;
    r->ring_prod = prod;
    r->ring_data = (const uint8_t *)prod + page;
    return 0;
}

/* Makes one relay's maps and program. Returns NULL, or the step that failed (errno set). */
static const char *
load(struct krelay *r, uint32_t entries)
{
    r->links = map_create(BPF_MAP_TYPE_HASH, sizeof(uint64_t), sizeof(struct link), entries,
                          BPF_F_NO_PREALLOC);
    r->ctls = r->links == -1 ? -1 :
              map_create(BPF_MAP_TYPE_HASH, sizeof(uint64_t), sizeof(struct ctl), entries,
                         BPF_F_NO_PREALLOC);
    if (r->ctls == -1)
        return "bpf map";
    r->rx = map_create(BPF_MAP_TYPE_SOCKHASH, sizeof(uint64_t), sizeof(uint64_t), entries, 0);
    r->tx = r->rx == -1 ? -1 :
            map_create(BPF_MAP_TYPE_SOCKHASH, sizeof(uint64_t), sizeof(uint64_t), entries, 0);
    if (r->tx == -1)
        return "bpf sockhash";
    r->ring = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_SIZE, 0);
    if (r->ring == -1 || ring_map(r) == -1)
        return "bpf ring buffer";
    r->prog = prog_load(r, NULL, 0);
    if (r->prog == -1) {
        char log[4096] = "";
        int e = errno;

        if (e != EPERM && prog_load(r, log, sizeof(log)) == -1 && log[0] != '\0')
            log_msg(LOG_LEVEL_INFO, "bpf verifier: %s", log);
        errno = e;
        return "bpf program";
    }
    if (prog_attach(r) == -1)
        return "bpf attach";
    return NULL;
}

static void
close_all(void)
{
    for (uint32_t i = 0; i < relay_count; i++) {
        int *fds[] = { &relays[i].prog, &relays[i].ring, &relays[i].tx, &relays[i].rx,
                       &relays[i].ctls, &relays[i].links };

        for (size_t j = 0; j < sizeof(fds) / sizeof(fds[0]); j++)
            if (*fds[j] != -1)
                close(*fds[j]);
    }
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
    relays = calloc(workers, sizeof(*relays));
    if (relays == NULL)
        failed = "memory";
    for (uint32_t i = 0; failed == NULL && i < workers; i++) {
        relays[i] = (struct krelay){ -1, -1, -1, -1, -1, -1, NULL, NULL, NULL };
        relay_count = i + 1;
        failed = load(&relays[i], entries < ENTRIES_MAX ? (uint32_t)entries : ENTRIES_MAX);
    }
    if (failed != NULL) {
        int e = errno;

        close_all();
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
        const uint8_t *rec = self->ring_data + (cons & (RING_SIZE - 1));
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

static int
map_update(int map, const void *key, const void *value, uint64_t flags)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)map;
    a.key = (uint64_t)(uintptr_t)key;
    a.value = (uint64_t)(uintptr_t)value;
    a.flags = flags;
    return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static void
map_delete(int map, const void *key)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)map;
    a.key = (uint64_t)(uintptr_t)key;
    sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

static int
link_get(const struct krelay_pair *p, struct link *l)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)self->links;
    a.key = (uint64_t)(uintptr_t)&p->from;
    a.value = (uint64_t)(uintptr_t)l;
    return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

int
krelay_stat(const struct krelay_pair *p, struct krelay_stat *st)
{
    struct link l;

    if (link_get(p, &l) == -1)
        return -1;
    st->bytes = l.bytes;
    st->held = l.held;
    st->last_ns = l.last_ns;
    st->gone = l.gone != 0;
    return 0;
}

int
krelay_allow(const struct krelay_pair *p, uint64_t relayed, uint64_t limit)
{
    struct ctl c = { .relayed = relayed, .limit = limit };

    return map_update(self->ctls, &p->from, &c, BPF_ANY);
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
krelay_link(struct krelay_pair *p, int from, int to, uint64_t tag)
{
    socklen_t len = sizeof(uint64_t);
    struct link l = { .tag = tag };
    int e;

    if (getsockopt(from, SOL_SOCKET, SO_COOKIE, &p->from, &len) == -1 ||
        getsockopt(to, SOL_SOCKET, SO_COOKIE, &p->to, &len) == -1)
        return -1;
    l.peer = p->to;
    if (map_update(self->links, &p->from, &l, BPF_NOEXIST) == -1)
        return -1;
    if (krelay_allow(p, 0, KRELAY_QUEUE_MAX) == -1)
        goto undo;
    /* The receiver first: from the sender's first byte on, it is there to take it. */
    if (socket_add(self->tx, p->to, to) == -1)
        goto undo;
    if (sender_add(p, from) == 0)
        return 0;
    e = errno;
    map_delete(self->tx, &p->to);
    errno = e;
undo:
    e = errno;
    krelay_unlink(p);
    errno = e;
    return -1;
}

int64_t
krelay_backlog(int fd, uint64_t want)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int queued;

    /* Acknowledged first, then what is queued: an ack in between only makes the sum
     * smaller, so it never reaches want before the socket has taken all of it. */
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
        ioctl(fd, SIOCOUTQ, &queued) == -1)
        return -1;
    return ti.tcpi_bytes_acked + (uint64_t)queued >= want ?
           0 : (int64_t)(want - ti.tcpi_bytes_acked - (uint64_t)queued);
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
    map_delete(self->links, &p->from);
    map_delete(self->ctls, &p->from);
}
