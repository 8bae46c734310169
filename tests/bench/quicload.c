/* quicload: a bounded QUIC datagram load generator, and the echo server behind it, for the
 * benchmark harness (tests/bench/run.sh, workloads quic_dgram and quic_mem).
 *
 * A flow is a UDP socket of its own, connected to ADDR PORT, that starts a connection as a
 * QUIC client does: one 1200-byte datagram holding a version-1 Initial with a ClientHello
 * for -s NAME (sealed with the runtime's Initial keys, tests/unit/quic_seal.h). A relay in
 * between routes the flow by that name. The flow counts as routed when a datagram comes
 * back on it: the echo server sends every datagram back where it came from, so a relay
 * sees the Initial come back as the server's first answer and learns its Source Connection
 * ID as the server's, as it does from a real server's Initial.
 *
 *   echo   serves ADDR PORT: every datagram goes back to its sender, until SIGTERM.
 *   flood  opens -c flows, then for -t seconds or until -n datagrams went, sends 1200-byte
 *          short-header datagrams addressed to each flow's CID (as 1-RTT packets are),
 *          keeping at most -w of them unanswered per flow. A flow that hears nothing for
 *          50 ms counts its unanswered ones lost. Each datagram that comes back crossed
 *          a relay twice.
 *   idle   opens -c flows; prints "ready ..." and holds them for -t seconds (or until
 *          SIGTERM), so the harness can read the relay's memory.
 *
 * Flows are opened at most 64 at a time awaiting their answer; an unanswered Initial is
 * sent again every 250 ms, 4 times at most. Output: key=value pairs on one line (idle: a
 * "ready" line, then a "done" line). Exit 0, or 2 on usage and set-up errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "quic_seal.h"
#include "hello.h"
#include "loadlib.h"

#define DGRAM 1200              /* every datagram sent: the least a client's Initial is */
#define CID_LEN 8
#define SETUP_CONC 64           /* flows awaiting their first answer at a time */
#define SETUP_RESEND_S 0.25
#define SETUP_TRIES 4
#define LOSS_S 0.05             /* a flow silent this long lost what it had in flight */
#define DRAIN_S 0.2             /* answers still counted after the last send */
#define BATCH 64                /* datagrams per sendmmsg / recvmmsg */

enum mode { MODE_ECHO = 0, MODE_FLOOD, MODE_IDLE };

struct flow {
    int fd;
    bool routed;
    uint8_t tries;
    uint8_t scid[CID_LEN];      /* the CID its datagrams carry once routed */
    uint32_t inflight;
    double t_sent;              /* last Initial sent (set-up) */
    double t_heard;             /* last answer, or last loss counted (flood) */
};

struct opts {
    enum mode mode;
    const char *addr, *name;
    int port;
    long flows, window, max;
    double secs;
};

static struct opts opt = { .flows = 64, .window = 1, .max = 100000000, .secs = 10 };
static struct sockaddr_storage dst;
static socklen_t dst_len;
static struct flow *flows;
static int ep;
static uint8_t rbuf[BATCH][2048];

static int
usage(void)
{
    fprintf(stderr, "usage: quicload -m echo|flood|idle [-s NAME] [-c FLOWS] [-w WINDOW] "
                    "[-n MAX] [-t SECONDS] ADDR PORT\n");
    return 2;
}

static bool
parse_addr(const char *addr, int port)
{
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&dst;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&dst;

    memset(&dst, 0, sizeof(dst));
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        dst_len = sizeof(*a6);
        return true;
    }
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        dst_len = sizeof(*a4);
        return true;
    }
    return false;
}

/* Receive-many messages over rbuf, with room for each sender's address in names. */
static void
recv_batch_init(struct mmsghdr *m, struct iovec *iov, struct sockaddr_storage *names)
{
    memset(m, 0, sizeof(*m) * BATCH);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = rbuf[i];
        iov[i].iov_len = sizeof(rbuf[i]);
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        if (names != NULL) {
            m[i].msg_hdr.msg_name = &names[i];
            m[i].msg_hdr.msg_namelen = sizeof(names[i]);
        }
    }
}

/* ---- echo ---- */

static int
run_echo(void)
{
    static struct mmsghdr m[BATCH];
    static struct iovec iov[BATCH];
    static struct sockaddr_storage names[BATCH];
    int fd = socket(dst.ss_family, SOCK_DGRAM, 0), big = 4 << 20;
    long long received = 0, echoed = 0;

    if (fd == -1 || bind(fd, (struct sockaddr *)&dst, dst_len) == -1) {
        fprintf(stderr, "quicload: echo on %s port %d: %s\n", opt.addr, opt.port,
                strerror(errno));
        return 2;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    while (!stop_flag) {
        int n;

        recv_batch_init(m, iov, names);
        n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        received += n;
        for (int i = 0; i < n; i++)
            iov[i].iov_len = m[i].msg_len;
        n = sendmmsg(fd, m, (unsigned)n, 0);
        if (n > 0)
            echoed += n;
    }
    printf("mode=echo received=%lld echoed=%lld\n", received, echoed);
    return 0;
}

/* ---- opening flows ---- */

/* The Initial that starts a flow for opt.name, with a fresh DCID and f's SCID, into out. */
static bool
seal_initial(struct flow *f, uint8_t out[DGRAM])
{
    static uint8_t rec[HELLO_SHARE_OUT_MAX], frame[DGRAM];
    uint8_t dcid[CID_LEN];
    struct quic_keys keys;
    size_t len, rlen;

    if (getrandom(dcid, sizeof(dcid), 0) != sizeof(dcid) ||
        getrandom(f->scid, sizeof(f->scid), 0) != sizeof(f->scid) ||
        quic_initial_keys(QUIC_VERSION_1, dcid, sizeof(dcid), false, &keys) == -1)
        return false;
    /* One record holds the whole hello: QUIC carries the message without its header. */
    len = hello_build_share(rec, opt.name, 0, 0);
    rlen = (size_t)rec[3] << 8 | rec[4];
    if (len != 5 + rlen || rlen + 7 > sizeof(frame))
        return false;
    struct seal s = { .version = QUIC_VERSION_1, .type = SEAL_INITIAL, .dcid = dcid,
                      .dcid_len = sizeof(dcid), .scid = f->scid, .scid_len = sizeof(f->scid),
                      .pn = 0, .pn_len = 2, .keys = &keys };
    len = seal_crypto_frame(frame, 0, rec + 5, rlen);
    return seal_packet(out, DGRAM, &s, frame, len, DGRAM) == DGRAM;
}

static bool
flow_open(struct flow *f, uint8_t initial[DGRAM])
{
    struct epoll_event ev = { .events = EPOLLIN };

    f->fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (f->fd == -1)
        return false;
    ev.data.ptr = f;
    if (connect(f->fd, (struct sockaddr *)&dst, dst_len) == -1 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev) == -1 || !seal_initial(f, initial)) {
        close(f->fd);
        f->fd = -1;
        return false;
    }
    return true;
}

/* Reads what waits on f; returns the datagrams read. */
static long
flow_drain(struct flow *f)
{
    static struct mmsghdr m[BATCH];
    static struct iovec iov[BATCH];
    long got = 0;
    int n;

    do {
        recv_batch_init(m, iov, NULL);
        n = recvmmsg(f->fd, m, BATCH, MSG_DONTWAIT, NULL);
        if (n > 0)
            got += n;
    } while (n == BATCH);
    return got;
}

/* Opens opt.flows flows, at most SETUP_CONC awaiting their first answer at a time, until
 * each is answered or has had its tries, or the deadline; returns the flows routed. Once
 * SETUP_CONC flows in a row went unanswered (a relay at its maxconn), it opens no more. */
static long
open_flows(double deadline, long *failed)
{
    static uint8_t initial[SETUP_CONC][DGRAM];
    struct epoll_event evs[SETUP_CONC];
    long pend[SETUP_CONC], npend = 0, next = 0, routed = 0, unanswered = 0;

    *failed = 0;
    while (((next < opt.flows && unanswered < SETUP_CONC) || npend > 0) && now_s() < deadline &&
           !stop_flag) {
        double now;
        int n;

        while (npend < SETUP_CONC && next < opt.flows && unanswered < SETUP_CONC) {
            struct flow *f = &flows[next];

            if (!flow_open(f, initial[npend])) {
                fprintf(stderr, "quicload: flow %ld: %s\n", next, strerror(errno));
                (*failed)++;
                next++;
                if (errno == EMFILE || errno == ENFILE)
                    return routed;
                continue;
            }
            (void)send(f->fd, initial[npend], DGRAM, 0);
            f->tries = 1;
            f->t_sent = now_s();
            pend[npend++] = next++;
        }
        n = epoll_wait(ep, evs, SETUP_CONC, 10);
        for (int i = 0; i < n; i++) {
            struct flow *f = evs[i].data.ptr;

            if (flow_drain(f) > 0 && !f->routed) {
                f->routed = true;
                f->t_heard = now_s();
                routed++;
                unanswered = 0;
            }
        }
        /* The answered and the given-up leave the pending set; the late are sent again. */
        now = now_s();
        for (long i = 0; i < npend;) {
            struct flow *f = &flows[pend[i]];

            if (!f->routed && now - f->t_sent >= SETUP_RESEND_S && f->tries < SETUP_TRIES) {
                (void)send(f->fd, initial[i], DGRAM, 0);
                f->tries++;
                f->t_sent = now;
            }
            if (f->routed || now - f->t_sent >= SETUP_RESEND_S) {
                if (!f->routed) {
                    (*failed)++;
                    unanswered++;
                }
                npend--;
                pend[i] = pend[npend];
                memcpy(initial[i], initial[npend], DGRAM);
                continue;
            }
            i++;
        }
    }
    return routed;
}

/* ---- flood ---- */

/* Sends f what its window has room for: short-header datagrams carrying its CID. */
static long
flow_fill(struct flow *f, struct mmsghdr *m, uint8_t *d)
{
    int n;

    if (f->inflight >= (uint32_t)opt.window)
        return 0;
    d[0] = 0x41;                                /* short header, fixed bit, pn length 2 */
    memcpy(d + 1, f->scid, CID_LEN);
    n = sendmmsg(f->fd, m, (unsigned)(opt.window - f->inflight), MSG_DONTWAIT);
    if (n <= 0)
        return 0;
    if (f->inflight == 0)
        f->t_heard = now_s();                   /* the loss clock starts with the first */
    f->inflight += (uint32_t)n;
    return n;
}

static int
run_flood(void)
{
    static uint8_t d[DGRAM];
    static struct mmsghdr m[BATCH];
    static struct iovec iov;
    struct epoll_event evs[256];
    long failed, routed;
    long long sent = 0, received = 0, lost = 0;
    double t0, end;

    routed = open_flows(now_s() + 10, &failed);
    memset(d, 0xa5, sizeof(d));
    iov.iov_base = d;
    iov.iov_len = DGRAM;
    for (int i = 0; i < BATCH; i++) {
        m[i].msg_hdr.msg_iov = &iov;
        m[i].msg_hdr.msg_iovlen = 1;
    }
    t0 = now_s();
    end = t0 + opt.secs;
    for (;;) {
        double now = now_s();
        bool sending = now < end && sent < opt.max && !stop_flag;
        long inflight = 0;
        int n;

        for (long i = 0; i < opt.flows; i++) {
            struct flow *f = &flows[i];

            if (!f->routed)
                continue;
            if (sending && sent < opt.max)
                sent += flow_fill(f, m, d);
            if (f->inflight > 0 && now - f->t_heard >= LOSS_S) {
                lost += f->inflight;
                f->inflight = 0;
            }
            inflight += f->inflight;
        }
        if (!sending && (inflight == 0 || now >= end + DRAIN_S || stop_flag))
            break;
        n = epoll_wait(ep, evs, 256, 1);
        now = now_s();
        for (int i = 0; i < n; i++) {
            struct flow *f = evs[i].data.ptr;
            long got = flow_drain(f);

            received += got;
            f->inflight = (uint32_t)got >= f->inflight ? 0 : f->inflight - (uint32_t)got;
            f->t_heard = now;
        }
    }
    double secs = now_s() - t0;

    printf("mode=flood flows=%ld routed=%ld failed=%ld sent=%lld received=%lld lost=%lld "
           "secs=%.3f rate=%.1f\n", opt.flows, routed, failed, sent, received, lost, secs,
           secs > 0 ? 2.0 * (double)received / secs : 0.0);
    return routed > 0 ? 0 : 1;
}

/* ---- idle ---- */

static int
run_idle(void)
{
    double t0 = now_s();
    long failed, routed = open_flows(t0 + opt.secs, &failed);
    struct timespec tick = { 0, 100 * 1000 * 1000 };

    printf("ready flows=%ld routed=%ld failed=%ld secs=%.3f\n", opt.flows, routed, failed,
           now_s() - t0);
    fflush(stdout);
    while (!stop_flag && now_s() - t0 < opt.secs)
        nanosleep(&tick, NULL);
    printf("done routed=%ld\n", routed);
    return routed > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_signal };
    int o;

    while ((o = getopt(argc, argv, "m:s:c:w:n:t:")) != -1) {
        switch (o) {
        case 'm':
            if (strcmp(optarg, "echo") == 0)
                opt.mode = MODE_ECHO;
            else if (strcmp(optarg, "flood") == 0)
                opt.mode = MODE_FLOOD;
            else if (strcmp(optarg, "idle") == 0)
                opt.mode = MODE_IDLE;
            else
                return usage();
            break;
        case 's': opt.name = optarg; break;
        case 'c': opt.flows = atol(optarg); break;
        case 'w': opt.window = atol(optarg); break;
        case 'n': opt.max = atol(optarg); break;
        case 't': opt.secs = atof(optarg); break;
        default: return usage();
        }
    }
    if (argc - optind != 2)
        return usage();
    opt.addr = argv[optind];
    opt.port = atoi(argv[optind + 1]);
    if (opt.port <= 0 || opt.port > 65535 || !parse_addr(opt.addr, opt.port) ||
        opt.flows < 1 || opt.window < 1 || opt.window > BATCH || opt.max < 1 ||
        opt.secs <= 0 || (opt.mode != MODE_ECHO && (opt.name == NULL || strlen(opt.name) > 200)))
        return usage();
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (opt.mode == MODE_ECHO)
        return run_echo();
    raise_nofile();
    flows = calloc((size_t)opt.flows, sizeof(*flows));
    ep = epoll_create1(0);
    if (flows == NULL || ep == -1) {
        fprintf(stderr, "quicload: %s\n", strerror(errno));
        return 2;
    }
    return opt.mode == MODE_FLOOD ? run_flood() : run_idle();
}
