/* A TCP server written by hand behind a TUN device, for the e2e test of segments that
 * overlap what their receiver has already (tests/e2e/l4_overlap.sh). The kernel queues
 * such a segment whole and recv() skips the overlap by the socket's read offset; a relay
 * that is handed whole segments must leave it out itself.
 *
 *   tunserver -i IFNAME -a ADDR -p PORT -n BYTES -o OVERLAP [-d MS] [-t SECONDS]
 *
 * Makes the TUN device IFNAME (the test gives it an address, which routes ADDR to it) and
 * answers one connection to [ADDR]:PORT: its SYN-ACK; MS milliseconds (default 0) after
 * the peer's first bytes are in, the first BYTES bytes of the test pattern in two
 * segments, the second beginning OVERLAP bytes before the end of the first; then its FIN. It acknowledges what the peer sends.
 * Exits 0 once the peer has acknowledged everything and sent its FIN, 1 when that does
 * not happen within SECONDS (default 10), 2 on usage or set-up errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "now.h"
#include "pattern.h"

enum { IP6_HDR = 40, TCP_HDR = 20, SEG_MAX = 1200 };
enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/* The connection, as this end sees it. */
static struct {
    uint8_t local[16], peer[16];
    uint16_t local_port, peer_port;
    uint32_t snd_una, snd_nxt, rcv_nxt; /* host order */
} conn;

static int tun = -1;

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* The TCP checksum over the IPv6 pseudo-header and the segment seg[0 .. len). */
static uint16_t
tcp_sum(const uint8_t *src, const uint8_t *dst, const uint8_t *seg, size_t len)
{
    uint32_t sum = (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + IPPROTO_TCP;

    for (int i = 0; i < 16; i += 2)
        sum += get16(src + i) + get16(dst + i);
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(seg + i);
    if (len & 1)
        sum += (uint32_t)seg[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Sends a segment: flags, sequence number seq, payload data[0 .. len) (an MSS option on
 * a SYN). Returns 0, or -1. */
static int
send_seg(uint8_t flags, uint32_t seq, const uint8_t *data, size_t len)
{
    uint8_t pkt[IP6_HDR + TCP_HDR + 4 + SEG_MAX];
    uint8_t *tcp = pkt + IP6_HDR;
    size_t hdr = TCP_HDR + ((flags & SYN) ? 4 : 0), seg = hdr + len;

    memset(pkt, 0, IP6_HDR + hdr);
    pkt[0] = 0x60;
    put16(pkt + 4, (uint16_t)seg);
    pkt[6] = IPPROTO_TCP;
    pkt[7] = 64;
    memcpy(pkt + 8, conn.local, 16);
    memcpy(pkt + 24, conn.peer, 16);
    put16(tcp, conn.local_port);
    put16(tcp + 2, conn.peer_port);
    put32(tcp + 4, seq);
    put32(tcp + 8, conn.rcv_nxt);
    tcp[12] = (uint8_t)(hdr / 4 << 4);
    tcp[13] = (uint8_t)(flags | ACK);
    put16(tcp + 14, 65535);
    if (flags & SYN) {
        tcp[20] = 2;                /* MSS */
        tcp[21] = 4;
        put16(tcp + 22, SEG_MAX);
    }
    if (len > 0)
        memcpy(tcp + hdr, data, len);
    put16(tcp + 16, tcp_sum(conn.local, conn.peer, tcp, seg));
    return write(tun, pkt, IP6_HDR + seg) == (ssize_t)(IP6_HDR + seg) ? 0 : -1;
}

static int
tun_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd == -1)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

int
main(int argc, char **argv)
{
    const char *ifname = NULL, *addr = NULL;
    uint8_t data[2 * SEG_MAX], pkt[65536];
    size_t bytes = 0, overlap = 0, first;
    uint32_t isn = 1000000, data_end;
    double deadline, timeout = 10;
    bool open_ = false, sent = false, peer_fin = false;
    int opt, port = 0;
    long delay_ms = 0;

    while ((opt = getopt(argc, argv, "i:a:p:n:o:d:t:")) != -1) {
        switch (opt) {
        case 'i': ifname = optarg; break;
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': bytes = (size_t)atol(optarg); break;
        case 'o': overlap = (size_t)atol(optarg); break;
        case 'd': delay_ms = atol(optarg); break;
        case 't': timeout = atof(optarg); break;
        default: return 2;
        }
    }
    first = (bytes + overlap + 1) / 2;
    if (ifname == NULL || addr == NULL || port <= 0 || port > 65535 || bytes == 0 ||
        overlap >= first || first > SEG_MAX || bytes - first + overlap > SEG_MAX ||
        inet_pton(AF_INET6, addr, conn.local) != 1) {
        fprintf(stderr, "usage: tunserver -i IFNAME -a ADDR -p PORT -n BYTES -o OVERLAP "
                "[-d MS] [-t SECONDS] (two segments of at most %d bytes)\n", SEG_MAX);
        return 2;
    }
    if ((tun = tun_open(ifname)) == -1) {
        fprintf(stderr, "tunserver: %s: %s\n", ifname, strerror(errno));
        return 2;
    }
    conn.local_port = (uint16_t)port;
    conn.snd_una = conn.snd_nxt = isn + 1;
    data_end = isn + 1 + (uint32_t)bytes;
    pattern_fill(data, 0, bytes);
    deadline = now_s() + timeout;
    while (!(peer_fin && sent && conn.snd_una == conn.snd_nxt)) {
        struct pollfd p = { .fd = tun, .events = POLLIN };
        double left = deadline - now_s();
        const uint8_t *tcp;
        uint32_t seq, ack;
        size_t len, hdr;
        ssize_t n;
        uint8_t flags;

        if (left <= 0) {
            fprintf(stderr, "tunserver: timed out (sent=%d peer_fin=%d)\n", sent, peer_fin);
            return 1;
        }
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        n = read(tun, pkt, sizeof(pkt));
        if (n < IP6_HDR + TCP_HDR || pkt[0] >> 4 != 6 || pkt[6] != IPPROTO_TCP ||
            memcmp(pkt + 24, conn.local, 16) != 0)
            continue;               /* not IPv6 TCP to ADDR (neighbour discovery, MLD) */
        tcp = pkt + IP6_HDR;
        hdr = (size_t)(tcp[12] >> 4) * 4;
        len = (size_t)get16(pkt + 4);
        if (get16(tcp + 2) != conn.local_port || hdr < TCP_HDR || len < hdr ||
            IP6_HDR + len > (size_t)n)
            continue;
        len -= hdr;
        flags = tcp[13];
        seq = get32(tcp + 4);
        ack = get32(tcp + 8);
        if (flags & RST) {
            fprintf(stderr, "tunserver: reset by the peer\n");
            return 1;
        }
        if (flags & SYN) {          /* a connection (again, if our SYN-ACK was lost) */
            memcpy(conn.peer, pkt + 8, 16);
            conn.peer_port = get16(tcp);
            conn.rcv_nxt = seq + 1;
            open_ = true;
            if (send_seg(SYN, isn, NULL, 0) == -1)
                return 2;
            continue;
        }
        if (!open_ || get16(tcp) != conn.peer_port || memcmp(pkt + 8, conn.peer, 16) != 0)
            continue;
        if ((flags & ACK) && (int32_t)(ack - conn.snd_una) > 0 &&
            (int32_t)(ack - conn.snd_nxt) <= 0)
            conn.snd_una = ack;     /* our FIN counts as one */
        if (len > 0 && seq == conn.rcv_nxt)
            conn.rcv_nxt += (uint32_t)len;
        if ((flags & FIN) && seq + (uint32_t)len == conn.rcv_nxt) {
            conn.rcv_nxt++;
            peer_fin = true;
        }
        if (len > 0 || (flags & FIN)) {
            if (send_seg(0, conn.snd_nxt, NULL, 0) == -1)
                return 2;
        }
        if (len > 0 && !sent) {
            /* The peer's first bytes: after the delay, the two segments, then the FIN. */
            struct timespec pause = { delay_ms / 1000, delay_ms % 1000 * 1000000 };

            nanosleep(&pause, NULL);
            if (send_seg(PSH, isn + 1, data, first) == -1 ||
                send_seg(PSH, isn + 1 + (uint32_t)(first - overlap), data + first - overlap,
                         bytes - first + overlap) == -1 ||
                send_seg(FIN, data_end, NULL, 0) == -1)
                return 2;
            sent = true;
            conn.snd_nxt = data_end + 1;
            printf("segments: [0, %zu) and [%zu, %zu), then FIN\n", first, first - overlap,
                   bytes);
            fflush(stdout);
        }
    }
    return 0;
}
