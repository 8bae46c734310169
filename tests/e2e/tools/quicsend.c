/* A synthetic QUIC client for the relay's e2e tests (tests/e2e/quic_limits.sh): sends a
 * ClientHello in Initial packets of version 1, one per 1200-byte datagram, then listens.
 *
 *   quicsend -a ADDR -p PORT -n NAME [-m NAME2] [-k SHARE] [-d COUNT] [-r] [-w SECONDS]
 *       builds the hello for NAME (tools/hello.h) with a key share of SHARE bytes (default
 *       0), cuts it into CRYPTO frames of 1100 bytes, one Initial per datagram, and sends
 *       the first COUNT datagrams (default all; -r: in reverse order) from one socket.
 *       Prints "dcid=0x..." (the connection's DCID, as ngtcp2 traces print it),
 *       "sent=N bytes=B", then waits SECONDS (default 1) and prints "answered=M", the
 *       datagrams that came back. With -m, a second connection (its own DCID, printed
 *       too) then sends a hello for NAME2 from the same socket, as a client that keeps
 *       one UDP port for several connections does.
 *
 * Exit 0 once sent, 2 on usage or set-up errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../unit/quic_seal.h"
#include "hello.h"

#define DGRAM 1200
#define CHUNK 1100
#define DGRAMS_MAX 128

static uint8_t hello[HELLO_SHARE_OUT_MAX];
static uint8_t dgrams[DGRAMS_MAX][DGRAM];

/* The length field of the TLS record at r. */
static size_t
rec_len(const uint8_t *r)
{
    return (size_t)r[3] << 8 | r[4];
}

static int
usage(void)
{
    fprintf(stderr, "usage: quicsend -a ADDR -p PORT -n NAME [-m NAME2] [-k SHARE] "
                    "[-d COUNT] [-r] [-w SECONDS]\n");
    return 2;
}

static int
open_socket(const char *addr, int port)
{
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = -1;

    if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1) {
        fd = socket(AF_INET6, SOCK_DGRAM, 0);
        if (fd != -1 && connect(fd, (struct sockaddr *)&a6, sizeof(a6)) == -1)
            fd = -1;
    } else if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd != -1 && connect(fd, (struct sockaddr *)&a4, sizeof(a4)) == -1)
            fd = -1;
    }
    return fd;
}

/* Seals the hello message msg[0..len) into Initial datagrams; returns their count. */
static size_t
seal_hello(const uint8_t *msg, size_t len, const uint8_t *dcid, const uint8_t *scid)
{
    struct quic_keys keys;
    uint8_t frame[CHUNK + 16];
    size_t count = 0;

    if (quic_initial_keys(QUIC_VERSION_1, dcid, 8, false, &keys) == -1)
        return 0;
    for (size_t off = 0; off < len && count < DGRAMS_MAX; off += CHUNK, count++) {
        size_t n = len - off < CHUNK ? len - off : CHUNK;
        struct seal s = { .version = QUIC_VERSION_1, .type = SEAL_INITIAL, .dcid = dcid,
                          .dcid_len = 8, .scid = scid, .scid_len = 4, .pn = count,
                          .pn_len = 2, .keys = &keys };
        size_t f = seal_crypto_frame(frame, (uint32_t)off, msg + off, n);

        if (seal_packet(dgrams[count], DGRAM, &s, frame, f, DGRAM) != DGRAM)
            return 0;
    }
    return count;
}

/* Builds the hello for name and sends it as a new connection on fd (the first count
 * datagrams, in reverse when reverse): prints its DCID and what went. Returns 0, or -1. */
static int
connection(int fd, const char *name, size_t share, long want, int reverse)
{
    uint8_t dcid[8], scid[4];
    size_t len, count, sent = 0, in = 0, out = 0;

    if (getrandom(dcid, sizeof(dcid), 0) != sizeof(dcid) ||
        getrandom(scid, sizeof(scid), 0) != sizeof(scid))
        return -1;
    /* The handshake message, out of its TLS records (QUIC carries it without them). */
    len = hello_build_share(hello, name, 0, share);
    while (in + 5 <= len) {
        size_t rec = rec_len(hello + in);       /* read before the move overwrites it */

        memmove(hello + out, hello + in + 5, rec);
        out += rec;
        in += 5 + rec;
    }
    count = seal_hello(hello, out, dcid, scid);
    if (count == 0)
        return -1;
    if (want >= 0 && (size_t)want < count)
        count = (size_t)want;
    printf("dcid=0x");
    for (size_t i = 0; i < sizeof(dcid); i++)
        printf("%02x", dcid[i]);
    printf("\n");
    for (size_t i = 0; i < count; i++)
        if (send(fd, dgrams[reverse ? count - 1 - i : i], DGRAM, 0) == DGRAM)
            sent++;
    printf("sent=%zu bytes=%zu\n", sent, sent * DGRAM);
    fflush(stdout);
    return 0;
}

/* Counts the datagrams that come back within wait_s seconds. */
static size_t
answers(int fd, long wait_s)
{
    static uint8_t buf[65536];
    struct timespec end, now;
    size_t answered = 0;

    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += wait_s;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        long ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
        if (ms <= 0 || poll(&p, 1, (int)ms) <= 0)
            break;
        if (recv(fd, buf, sizeof(buf), 0) > 0)
            answered++;
    }
    return answered;
}

int
main(int argc, char **argv)
{
    const char *addr = NULL, *name = NULL, *name2 = NULL;
    int port = 0, opt, fd, reverse = 0;
    long share = 0, want = -1, wait_s = 1;

    while ((opt = getopt(argc, argv, "a:p:n:m:k:d:rw:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': name = optarg; break;
        case 'm': name2 = optarg; break;
        case 'k': share = atol(optarg); break;
        case 'd': want = atol(optarg); break;
        case 'r': reverse = 1; break;
        case 'w': wait_s = atol(optarg); break;
        default: return usage();
        }
    }
    if (addr == NULL || name == NULL || port <= 0 || share < 0 || share > HELLO_SHARE_MAX ||
        strlen(name) > 200 || (name2 != NULL && strlen(name2) > 200))
        return usage();
    fd = open_socket(addr, port);
    if (fd == -1 || connection(fd, name, (size_t)share, want, reverse) == -1 ||
        (name2 != NULL && connection(fd, name2, (size_t)share, want, reverse) == -1)) {
        fprintf(stderr, "quicsend: cannot build or send: %s\n", strerror(errno));
        return 2;
    }
    printf("answered=%zu\n", answers(fd, wait_s));
    close(fd);
    return 0;
}
