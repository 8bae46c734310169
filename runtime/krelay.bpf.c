/* The kernel relay's program (see krelay.h): an sk_skb stream verdict, run for every
 * chunk a socket of rx receives, and its maps. Compiled with clang for the BPF target;
 * krelay.c loads it, one instance per worker. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "krelay_shared.h"

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

/* The senders the program reads, and the receivers it writes to; a socket is never in
 * both (see krelay.h). */
struct cookie_sockhash rx SEC(".maps");
struct cookie_sockhash tx SEC(".maps");

/* The reports: the tag of a direction, 8 bytes a record. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, KRELAY_RING_SIZE);
} ring SEC(".maps");

/* A chunk kept (SK_PASS without a redirect) waits in the socket, for recv(), and counts
 * against its receive buffer: the window closes when that is full. Chunks of one socket
 * go through the program one at a time (under the socket's lock), so its counts need no
 * atomic operation; bytes, which user space reads meanwhile, gets one all the same. */
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
    c = bpf_map_lookup_elem(&ctls, &cookie);
    if (c == NULL)
        return SK_PASS;
    if (c->relayed != s->held) {        /* user space relays: keep for it */
        s->held += len;
        return SK_PASS;
    }
    if (s->bytes + len > c->limit) {    /* the peer is behind: keep, and report */
        s->held += len;
        goto report;
    }
    old = __sync_fetch_and_add(&s->bytes, len);
    peer = s->peer;
    if (bpf_sk_redirect_hash(skb, &tx, &peer, 0) != SK_PASS)
        s->gone = 1;                    /* kept, and reported */
    else if (old >> KRELAY_REPORT_SHIFT == (old + len) >> KRELAY_REPORT_SHIFT)
        return SK_PASS;                 /* to the peer's send queue */
report:
    bpf_ringbuf_output(&ring, &s->tag, sizeof(s->tag), 0);
    return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
