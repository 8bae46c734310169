/* The kernel relay's program (see krelay.h): an sk_skb stream verdict, run for every
 * chunk a socket of rx receives, and its maps. Compiled with clang for the BPF target;
 * krelay.c loads it, one instance per worker. */
#include <stdbool.h>

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "krelay_shared.h"

/* The kernel's socket buffer, as far as the program reads it: its control block, where
 * TCP keeps a segment's sequence numbers (struct tcp_skb_cb: seq, then end_seq, which
 * counts a FIN as one). Relocated against the running kernel's BTF when loaded. */
struct sk_buff {
    char cb[48];
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* How many bytes the program may keep for user space that user space has not read
 * (krelay_ctl's read), set by the loader before it loads the program (krelay.c). A kept
 * chunk waits in the sender's own sockmap queue, behind those redirected toward the
 * sender, whenever that queue is not empty; there it is not counted in the socket's
 * receive buffer, so the window stays open (krelay.h). Beyond keep_max, the program
 * gives up. */
const volatile __u64 keep_max = 64u << 20;

/* bpf_skb_adjust_room() takes at most this many bytes off a chunk's head per call. */
#define TRIM_STEP 4095
/* ... and a chunk is at most this many steps long (GSO: 64 KiB; BIG TCP: 512 KiB). */
#define TRIM_STEPS 160

/* The hash maps and sockhashes are keyed by a socket's cookie, and get their size from
 * the loader (from maxconn) before it loads them. Hash entries come and go with the
 * connections: nothing is preallocated. */
#define COOKIE_HASH(value_type)                 \
    struct {                                    \
        __uint(type, BPF_MAP_TYPE_HASH);        \
        __uint(map_flags, BPF_F_NO_PREALLOC);   \
        __type(key, __u64);                     \
        __type(value, value_type);              \
    }

COOKIE_HASH(struct krelay_sender) links SEC(".maps");  /* by the sender's cookie */
COOKIE_HASH(struct krelay_ctl) ctls SEC(".maps");      /* by the sender's cookie */

struct cookie_sockhash {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __type(key, __u64);
    __type(value, __u64);
};

/* The senders the program reads, and the receivers it writes to; a connection's sockets
 * are in both, one for each direction (see krelay.h). */
struct cookie_sockhash rx SEC(".maps");
struct cookie_sockhash tx SEC(".maps");

/* The reports: the tag of a direction, 8 bytes a record. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, KRELAY_RING_SIZE);
} ring SEC(".maps");

static __always_inline bool
before(__u32 seq, __u32 other)
{
    return (__s32)(seq - other) < 0;
}

/* Leaves out of chunk skb what the program took before, by its TCP sequence numbers: a
 * segment that overlaps what the socket had received is queued whole, and recv() skips
 * the overlap by the socket's read offset, which the chunks handed to the program do not
 * carry (seen: a 65,464-byte segment handed over twice, in 8 of some 320 downloads of
 * 64 MiB whose client was behind, so that the server's segments were retransmitted,
 * with 4 MiB queued toward a client at most). Returns the chunk's length now: 0 when it
 * has nothing new, or when it could not be trimmed (s->broken then says so). */
static __always_inline __u64
krelay_fresh(struct __sk_buff *skb, struct krelay_sender *s)
{
    struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
    __u32 seq = *(__u32 *)&kskb->cb[0], end = *(__u32 *)&kskb->cb[4], old;

    if (s->seq_known && before(seq, s->next_seq)) {
        if (!before(s->next_seq, end))
            return 0;                   /* all of it taken before */
        old = s->next_seq - seq;
        for (int i = 0; i < TRIM_STEPS && old > 0; i++) {
            __u32 n = old < TRIM_STEP ? old : TRIM_STEP;

            if (bpf_skb_adjust_room(skb, -(__s32)n, 0, 0) != 0)
                break;
            old -= n;
        }
        if (old > 0) {
            s->broken = KRELAY_BROKEN_RESENT;
            return 0;
        }
    }
    s->seq_known = 1;
    s->next_seq = end;
    return skb->len;
}

/* Whether the bytes kept so far, with len more, have passed another multiple of
 * 2^KRELAY_REPORT_SHIFT: a report then. */
static __always_inline bool
crossed(__u64 old, __u64 len)
{
    return old >> KRELAY_REPORT_SHIFT != (old + len) >> KRELAY_REPORT_SHIFT;
}

/* A chunk kept (SK_PASS without a redirect) waits in the socket, for recv(), and counts
 * against its receive buffer: the window closes when that is full (unless it waits
 * behind chunks redirected toward the socket: keep_max). Chunks of one
 * socket go through the program one at a time (under the socket's lock), so its counts
 * need no atomic operation; bytes, which user space reads meanwhile, gets one all the
 * same. */
SEC("sk_skb/stream_verdict")
int
krelay_verdict(struct __sk_buff *skb)
{
    __u64 len = skb->len, cookie, peer, old;
    struct krelay_sender *s;
    struct krelay_ctl *c;

    if (len == 0)
        return SK_DROP;                 /* a FIN: user space passes it on */
    cookie = bpf_get_socket_cookie(skb);
    s = bpf_map_lookup_elem(&links, &cookie);
    if (s == NULL || s->gone)
        return SK_PASS;                 /* kept in the socket */
    s->last_ns = bpf_ktime_get_ns();
    if (s->broken)
        return SK_DROP;                 /* reported: the connection ends */
    len = krelay_fresh(skb, s);
    if (len == 0)                       /* nothing new, or not relayable: reported */
        goto drop;
    c = bpf_map_lookup_elem(&ctls, &cookie);
    if (c == NULL)
        return SK_PASS;
    if (c->relayed != s->held || s->bytes + len > c->limit) {
        old = s->held;
        if (old + len - c->read > keep_max) {
            s->broken = KRELAY_BROKEN_FULL;
            goto drop;
        }
        s->held = old + len;
        if (c->relayed != old && !crossed(old, len))
            return SK_PASS;             /* user space relays: kept for it */
        goto report;                    /* the peer is behind, or user space reads on */
    }
    old = __sync_fetch_and_add(&s->bytes, len);
    peer = s->peer;
    if (bpf_sk_redirect_hash(skb, &tx, &peer, 0) != SK_PASS)
        s->gone = 1;                    /* kept, and reported */
    else if (!crossed(old, len))
        return SK_PASS;                 /* to the peer's send queue */
report:
    bpf_ringbuf_output(&ring, &s->tag, sizeof(s->tag), 0);
    return SK_PASS;
drop:
    if (s->broken)
        bpf_ringbuf_output(&ring, &s->tag, sizeof(s->tag), 0);
    return SK_DROP;
}

char LICENSE[] SEC("license") = "GPL";
