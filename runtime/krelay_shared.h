/* What the kernel relay's BPF program (krelay.bpf.c) and its loader (krelay.c) share: the
 * maps' entries, and the figures both sides count with. Compiled for the BPF target too,
 * so it uses the kernel's types alone. */
#ifndef RUNTIME_KRELAY_SHARED_H
#define RUNTIME_KRELAY_SHARED_H

#include <linux/types.h>

/* The kernel reports a direction each time the bytes it relayed pass a multiple of
 * 2^KRELAY_REPORT_SHIFT, when the receiver is behind (krelay_allow()), when it could not
 * relay them (the receiver's socket closed), while it keeps them for user space each
 * time those pass such a multiple, and when it gives up (broken). */
#define KRELAY_REPORT_SHIFT 20

/* Why a direction gave up, dropping every later chunk (user space ends the connection):
 * a chunk held bytes taken before that it could not leave out, or the bytes kept for user
 * space went beyond keep_max (krelay.bpf.c). */
#define KRELAY_BROKEN_RESENT 1
#define KRELAY_BROKEN_FULL 2

/* The ring buffer of reports: a power of two, a multiple of the page size. */
#define KRELAY_RING_SIZE (64u << 10)

/* What the program keeps per sender, keyed by its cookie: the receiver's cookie (its key
 * in the sockhash of receivers), the bytes it redirected, when it last took some, whether
 * a redirect failed (the receiver had left the sockhash: its socket closed), the tag user
 * space gave it for the reports, the bytes it kept in the sender for user space, the TCP
 * sequence number that follows the last chunk it took (once seq_known), and why it gave
 * up, or 0 (KRELAY_BROKEN_*: from then on it drops every chunk; it reports once, and
 * user space ends the connection). */
struct krelay_sender {
    __u64 peer;
    __u64 bytes;
    __u64 last_ns;
    __u64 gone;
    __u64 tag;
    __u64 held;
    __u32 next_seq;
    __u32 seq_known;
    __u64 broken;                   /* KRELAY_BROKEN_*, or 0 */
};

/* What user space says of a sender, keyed by its cookie: how many of the bytes the
 * program kept it has relayed so far, up to how many bytes in all the program may
 * redirect (user space raises it as the receiver takes them), and how many of the kept
 * bytes it has read (it tells at the reports; the program gives up beyond keep_max more,
 * krelay.bpf.c). The program redirects again only once all it kept has been relayed: no
 * byte overtakes another. */
struct krelay_ctl {
    __u64 relayed;
    __u64 limit;
    __u64 read;
};

#endif
