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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* What the program keeps per socket, keyed by its cookie: its peer's cookie (the key of
 * the peer in the sockhash), the bytes it redirected, when it last did, and whether a
 * redirect failed (the peer was not in the sockhash yet): from then on the socket's bytes
 * stay with it, in order, where user space can read them. */
struct link {
    uint64_t peer;
    uint64_t bytes;
    uint64_t last_ns;
    uint64_t held;
};

/* Entries per connection: two sockets; workers share the maps (made before the fork). */
#define ENTRIES_MAX (1u << 22)

static int links_fd = -1, socks_fd = -1, prog_fd = -1;

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
#define LOAD_MAP(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), \
    INSN(0, 0, 0, 0, 0)
#define STORE64(d, o, s) INSN(BPF_STX | BPF_DW | BPF_MEM, d, s, o, 0)
#define LOAD64(d, s, o) INSN(BPF_LDX | BPF_DW | BPF_MEM, d, s, o, 0)
#define LOAD32(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define ATOMIC_ADD64(d, o, s) INSN(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, o, BPF_ADD)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The stream verdict, for every chunk a socket of the sockhash receives:
 *
 *     if (skb->len == 0) return SK_DROP;       // a FIN: user space passes it on
 *     struct link *l = lookup(links, get_socket_cookie(skb));
 *     if (l == NULL || l->held) return SK_PASS;   // kept for user space
 *     l->bytes += skb->len; l->last_ns = ktime_get_ns();
 *     if (sk_redirect_hash(skb, socks, &l->peer, 0) == SK_PASS)
 *         return SK_PASS;                     // to the peer's send queue
 *     l->held = 1;
 *     return SK_PASS;
 *
 * Written as instructions so that building the proxy needs no BPF compiler. */
static int
prog_load(char *log, size_t log_size)
{
    struct bpf_insn insns[] = {
        MOV_REG(BPF_REG_6, BPF_REG_1),
        LOAD32(BPF_REG_1, BPF_REG_6, offsetof(struct __sk_buff, len)),
        JEQ_IMM(BPF_REG_1, 0, 31),                  /* to "a FIN" */
        MOV_REG(BPF_REG_1, BPF_REG_6),
        CALL(BPF_FUNC_get_socket_cookie),
        STORE64(BPF_REG_10, -8, BPF_REG_0),
        LOAD_MAP(BPF_REG_1, links_fd),
        MOV_REG(BPF_REG_2, BPF_REG_10),
        ADD_IMM(BPF_REG_2, -8),
        CALL(BPF_FUNC_map_lookup_elem),
        JEQ_IMM(BPF_REG_0, 0, 20),                  /* to "kept" */
        MOV_REG(BPF_REG_7, BPF_REG_0),
        LOAD64(BPF_REG_1, BPF_REG_7, offsetof(struct link, held)),
        JNE_IMM(BPF_REG_1, 0, 17),                  /* to "kept" */
        LOAD32(BPF_REG_1, BPF_REG_6, offsetof(struct __sk_buff, len)),
        ATOMIC_ADD64(BPF_REG_7, offsetof(struct link, bytes), BPF_REG_1),
        CALL(BPF_FUNC_ktime_get_ns),
        STORE64(BPF_REG_7, offsetof(struct link, last_ns), BPF_REG_0),
        LOAD64(BPF_REG_1, BPF_REG_7, offsetof(struct link, peer)),
        STORE64(BPF_REG_10, -16, BPF_REG_1),
        MOV_REG(BPF_REG_1, BPF_REG_6),
        LOAD_MAP(BPF_REG_2, socks_fd),
        MOV_REG(BPF_REG_3, BPF_REG_10),
        ADD_IMM(BPF_REG_3, -16),
        MOV_IMM(BPF_REG_4, 0),
        CALL(BPF_FUNC_sk_redirect_hash),
        JNE_IMM(BPF_REG_0, SK_PASS, 1),             /* to "not redirected" */
        EXIT(),
        MOV_IMM(BPF_REG_1, 1),                      /* not redirected */
        STORE64(BPF_REG_7, offsetof(struct link, held), BPF_REG_1),
        MOV_IMM(BPF_REG_0, SK_PASS),                /* kept */
        EXIT(),
        MOV_IMM(BPF_REG_0, SK_DROP),                /* a FIN */
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
map_create(uint32_t type, uint32_t value_size, uint32_t entries, uint32_t flags)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_type = type;
    a.key_size = sizeof(uint64_t);
    a.value_size = value_size;
    a.max_entries = entries;
    a.map_flags = flags;
    return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static int
prog_attach(void)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)socks_fd;
    a.attach_bpf_fd = (uint32_t)prog_fd;
    a.attach_type = BPF_SK_SKB_STREAM_VERDICT;
    return (int)sys_bpf(BPF_PROG_ATTACH, &a);
}

static void
close_all(void)
{
    int *fds[] = { &prog_fd, &socks_fd, &links_fd };

    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] != -1)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

/* Makes the maps and the program. Returns NULL, or the step that failed (errno set). */
static const char *
load(uint32_t entries)
{
    links_fd = map_create(BPF_MAP_TYPE_HASH, sizeof(struct link), entries, BPF_F_NO_PREALLOC);
    if (links_fd == -1)
        return "bpf map";
    socks_fd = map_create(BPF_MAP_TYPE_SOCKHASH, sizeof(uint64_t), entries, 0);
    if (socks_fd == -1)
        return "bpf sockhash";
    prog_fd = prog_load(NULL, 0);
    if (prog_fd == -1) {
        char log[4096] = "";
        int e = errno;

        if (e != EPERM && prog_load(log, sizeof(log)) == -1 && log[0] != '\0')
            log_msg(LOG_LEVEL_INFO, "bpf verifier: %s", log);
        errno = e;
        return "bpf program";
    }
    if (prog_attach() == -1)
        return "bpf attach";
    return NULL;
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

/* A tls listener's configured choice (its own, or the global's), unless SWITCHYARD_RELAY
 * names another one. */
static uint32_t
relay_wanted(const struct yt_listener *l)
{
    return relay_forced < YT_RELAY_COUNT ? relay_forced :
           l->relay < YT_RELAY_COUNT ? l->relay : YT_RELAY_USER;
}

/* Writes to names[size] the names of t's tls listeners that want the user space relay
 * (user) or not, ", " between them, ending in "..." when they do not fit: the log line that
 * says which listeners use which stays short. */
static void
relay_names(char *names, size_t size, const struct yt_table *t, bool user)
{
    size_t n = 0;

    names[0] = '\0';
    for (uint32_t i = 0; i < t->listener_count && n < size; i++) {
        const struct yt_listener *l = &t->listeners[i];
        int w;

        if (l->mode != YT_MODE_TLS || (relay_wanted(l) == YT_RELAY_USER) != user)
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
    uint64_t entries = 2ull * t->global.maxconn * workers;
    const char *failed;
    char kernel[80], user[80];

    relay_forced = relay_from_env();
    for (uint32_t i = 0; i < t->listener_count; i++)
        if (t->listeners[i].mode == YT_MODE_TLS)
            count[relay_wanted(&t->listeners[i])]++;
    if (count[YT_RELAY_KERNEL] + count[YT_RELAY_AUTO] == 0) {
        log_msg(LOG_LEVEL_INFO, "relay: user (configured)");
        return false;
    }
    failed = load(entries < ENTRIES_MAX ? (uint32_t)entries : ENTRIES_MAX);
    if (failed != NULL) {
        int e = errno;

        close_all();
        log_msg(count[YT_RELAY_KERNEL] > 0 ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
                "relay: user (%s: %s)", failed, strerror(e));
        return false;
    }
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
    return prog_fd != -1 && relay_wanted(l) != YT_RELAY_USER;
}

bool
krelay_on(void)
{
    return prog_fd != -1;
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
link_get(const struct krelay_pair *p, int i, struct link *l)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)links_fd;
    a.key = (uint64_t)(uintptr_t)&p->cookie[i];
    a.value = (uint64_t)(uintptr_t)l;
    return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

int
krelay_stat(const struct krelay_pair *p, int i, uint64_t *bytes, uint64_t *last_ns)
{
    struct link l;

    if (link_get(p, i, &l) == -1)
        return -1;
    *bytes = l.bytes;
    *last_ns = l.last_ns;
    return 0;
}

/* Sets the receive low-water mark of both sockets: hold (a part of the receive buffer)
 * keeps what arrives in the receive queue, unseen by the program, until the mark is set
 * back to 1, which signals what is there (tcp_set_rcvlowat()) for the program to take. A
 * mark within the buffer leaves the buffer and the window as they are. */
static void
rcvlowat_set(const int fd[2], bool hold)
{
    for (int i = 0; i < 2; i++) {
        int v = 1, rcvbuf;
        socklen_t len = sizeof(rcvbuf);

        if (hold && getsockopt(fd[i], SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0)
            v = rcvbuf / 4 > 1 ? rcvbuf / 4 : 1;
        setsockopt(fd[i], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
    }
}

/* Puts both sockets in the maps. Returns 0, or -1 (errno) with neither in them. */
static int
link_both(struct krelay_pair *p, const int fd[2])
{
    int e;

    for (int i = 0; i < 2; i++) {
        struct link l = { .peer = p->cookie[!i] };

        if (map_update(links_fd, &p->cookie[i], &l, BPF_NOEXIST) == -1)
            goto undo;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t v = (uint64_t)fd[i];

        if (map_update(socks_fd, &p->cookie[i], &v, BPF_NOEXIST) == -1)
            goto undo;
    }
    return 0;
undo:
    e = errno;
    krelay_unlink(p);
    map_delete(socks_fd, &p->cookie[0]);
    map_delete(socks_fd, &p->cookie[1]);
    errno = e;
    return -1;
}

int
krelay_link(struct krelay_pair *p, const int fd[2])
{
    int rc, e;

    for (int i = 0; i < 2; i++) {
        socklen_t len = sizeof(p->cookie[i]);

        if (getsockopt(fd[i], SOL_SOCKET, SO_COOKIE, &p->cookie[i], &len) == -1)
            return -1;
    }
    /* Bytes that arrive while one socket is in the sockhash and its peer not yet would
     * find no peer to go to: they wait in the receive queue meanwhile. */
    rcvlowat_set(fd, true);
    rc = link_both(p, fd);
    e = errno;
    rcvlowat_set(fd, false);
    if (rc == -1) {
        errno = e;
        return -1;
    }
    /* Only a FIN (or a full receive queue) in between could have run the program early. */
    for (int i = 0; i < 2; i++) {
        struct link l;

        if (link_get(p, i, &l) == 0 && l.held)
            return 1;
    }
    return 0;
}

int
krelay_delivered(int fd, uint64_t want)
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
    return ti.tcpi_bytes_acked + (uint64_t)queued >= want;
}

void
krelay_unlink(const struct krelay_pair *p)
{
    map_delete(links_fd, &p->cookie[0]);
    map_delete(links_fd, &p->cookie[1]);
}
