/* A TLS-agnostic test client for the e2e tests: sends a ClientHello for a chosen name,
 * then bytes of the test pattern, and checks what comes back.
 *
 *   client -a ADDR -p PORT [-n NAME|-] [-r RECORD] [-b] [-u BYTES] [-w MS] [-e BYTES]
 *          [-m echo|respond|alert|silent|dump] [-t SECONDS]
 *
 *   -n     server_name in the hello ("-": no server_name extension)
 *   -r     split the handshake message into TLS records of RECORD bytes each
 *   -b     send the hello byte by byte, a TCP segment each
 *   -u     pattern bytes to send after the hello
 *   -w     pause MS milliseconds between the hello and the pattern
 *   echo     (default) expects every byte sent back, in order, checked byte by byte
 *   respond  shuts its write side after sending, expects -e BYTES of pattern, then EOF
 *   alert    prints what comes back, in hex, until EOF
 *   silent   sends nothing, waits for EOF, prints how long it took
 *   dump     writes the hello to stdout and exits (no connection)
 *
 * Prints one line "local=... sent=... recv=... ms=... mib_s=..." and exits 0 when the
 * answer was right, 1 when not, 2 on usage or connection errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

static uint8_t hello[2048];
static size_t hello_len;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *
put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

/* A TLS 1.3-style ClientHello (RFC 8446 §4.1.2) carrying name in server_name (RFC 6066
 * §3), wrapped in records of at most record bytes of handshake message each. */
static void
build_hello(const char *name, size_t record)
{
    uint8_t msg[1024], ext[512], *p = msg, *e = ext;
    size_t n = name != NULL ? strlen(name) : 0, msg_len, ext_len;

    if (name != NULL) {
        e = put16(e, 0x0000);               /* server_name */
        e = put16(e, n + 5);
        e = put16(e, n + 3);                /* server_name_list */
        *e++ = 0;                           /* host_name */
        e = put16(e, n);
        memcpy(e, name, n);
        e += n;
    }
    e = put16(e, 0x002b);                   /* supported_versions: TLS 1.3, 1.2 */
    e = put16(e, 5);
    *e++ = 4;
    e = put16(e, 0x0304);
    e = put16(e, 0x0303);
    e = put16(e, 0x000a);                   /* supported_groups: x25519 */
    e = put16(e, 4);
    e = put16(e, 2);
    e = put16(e, 0x001d);
    e = put16(e, 0x000d);                   /* signature_algorithms: ecdsa_secp256r1_sha256 */
    e = put16(e, 4);
    e = put16(e, 2);
    e = put16(e, 0x0403);
    ext_len = (size_t)(e - ext);

    *p++ = 1;                               /* client_hello, 24-bit length filled below */
    p += 3;
    p = put16(p, 0x0303);                   /* legacy_version */
    for (int i = 0; i < 32; i++)            /* random */
        *p++ = (uint8_t)(i * 7 + 1);
    *p++ = 32;                              /* legacy_session_id */
    for (int i = 0; i < 32; i++)
        *p++ = (uint8_t)(0xa0 + i);
    p = put16(p, 6);                        /* cipher_suites */
    p = put16(p, 0x1301);
    p = put16(p, 0x1302);
    p = put16(p, 0xc02f);
    *p++ = 1;                               /* legacy_compression_methods: null */
    *p++ = 0;
    p = put16(p, ext_len);
    memcpy(p, ext, ext_len);
    p += ext_len;
    msg_len = (size_t)(p - msg);
    msg[1] = (uint8_t)((msg_len - 4) >> 16);
    msg[2] = (uint8_t)((msg_len - 4) >> 8);
    msg[3] = (uint8_t)(msg_len - 4);

    if (record == 0)
        record = msg_len;
    for (size_t off = 0; off < msg_len; off += record) {
        size_t k = msg_len - off < record ? msg_len - off : record;

        hello[hello_len++] = 0x16;          /* handshake record, version TLS 1.0 */
        hello[hello_len++] = 0x03;
        hello[hello_len++] = 0x01;
        put16(hello + hello_len, k);
        hello_len += 2;
        memcpy(hello + hello_len, msg + off, k);
        hello_len += k;
    }
}

/* Bytes off .. off + len of what this client sends: the hello, then the pattern. */
static void
fill_sent(uint8_t *p, uint64_t off, size_t len)
{
    while (len > 0 && off < hello_len) {
        *p++ = hello[off++];
        len--;
    }
    pattern_fill(p, off - hello_len, len);
}

int
main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *name = "alpha.test", *mode = "echo";
    uint64_t payload = 0, expect = 0, sent = 0, recv_n = 0, total;
    size_t record = 0;
    bool bytewise = false, shut = false, ok = true;
    double timeout = 30, t0, deadline, pause_ms = 0;
    int opt, fd, one = 1;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } sa = { 0 }, local;
    socklen_t sl;
    char lbuf[INET6_ADDRSTRLEN] = "?";
    static uint8_t buf[65536], want[65536];
    uint8_t seen[64];
    bool echo;
    size_t seen_len = 0;
    int port = 0;

    while ((opt = getopt(argc, argv, "a:p:n:r:bu:e:m:t:w:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': name = strcmp(optarg, "-") == 0 ? NULL : optarg; break;
        case 'r': record = (size_t)atoi(optarg); break;
        case 'b': bytewise = true; break;
        case 'u': payload = strtoull(optarg, NULL, 10); break;
        case 'e': expect = strtoull(optarg, NULL, 10); break;
        case 'm': mode = optarg; break;
        case 't': timeout = atof(optarg); break;
        case 'w': pause_ms = atof(optarg); break;
        default: return 2;
        }
    }
    if (strchr(addr, ':') != NULL) {
        sa.in6.sin6_family = AF_INET6;
        sa.in6.sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &sa.in6.sin6_addr);
    } else {
        sa.in4.sin_family = AF_INET;
        sa.in4.sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &sa.in4.sin_addr);
    }
    build_hello(name, record);
    if (strcmp(mode, "dump") == 0)
        return fwrite(hello, 1, hello_len, stdout) == hello_len ? 0 : 2;
    echo = strcmp(mode, "echo") == 0;
    total = strcmp(mode, "silent") == 0 ? 0 : hello_len + payload;
    fd = socket(sa.sa.sa_family, SOCK_STREAM, 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, &sa.sa, sa.sa.sa_family == AF_INET ? sizeof(sa.in4) : sizeof(sa.in6)) == -1) {
        perror("client: connect");
        return 2;
    }
    sl = sizeof(local);
    getsockname(fd, &local.sa, &sl);
    if (local.sa.sa_family == AF_INET)
        inet_ntop(AF_INET, &local.in4.sin_addr, lbuf, sizeof(lbuf));
    else
        inet_ntop(AF_INET6, &local.in6.sin6_addr, lbuf, sizeof(lbuf));
    t0 = now_s();
    deadline = t0 + timeout;
    if (bytewise) {
        for (; sent < hello_len; sent++) {
            struct timespec pause = { 0, 2000000 };

            if (write(fd, hello + sent, 1) != 1)
                return 2;
            nanosleep(&pause, NULL);
        }
    }
    if (pause_ms > 0) {
        struct timespec pause = { (time_t)(pause_ms / 1000),
                                  (long)((pause_ms - (time_t)(pause_ms / 1000) * 1000) * 1e6) };

        if (write(fd, hello, hello_len) != (ssize_t)hello_len)
            return 2;
        sent = hello_len;
        nanosleep(&pause, NULL);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        double left = deadline - now_s();
        ssize_t r;

        if (sent < total)
            p.events |= POLLOUT;
        else if (!shut && strcmp(mode, "respond") == 0) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (left <= 0) {
            fprintf(stderr, "client: timed out\n");
            ok = false;
            break;
        }
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        if (p.revents & POLLOUT) {
            size_t k = total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);

            fill_sent(buf, sent, k);
            r = write(fd, buf, k);
            if (r > 0)
                sent += (uint64_t)r;
            else if (r == -1 && errno != EAGAIN) {
                perror("client: write");
                ok = false;
                break;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            r = read(fd, buf, sizeof(buf));
            if (r == -1 && errno == EAGAIN)
                continue;
            if (r <= 0) {
                if (r == -1)
                    perror("client: read");
                break;
            }
            for (ssize_t i = 0; i < r && seen_len < sizeof(seen); i++)
                seen[seen_len++] = buf[i];
            if (ok && (echo || strcmp(mode, "respond") == 0)) {
                if (echo)
                    fill_sent(want, recv_n, (size_t)r);
                else
                    pattern_fill(want, recv_n, (size_t)r);
                if (memcmp(buf, want, (size_t)r) != 0) {
                    fprintf(stderr, "client: bytes %llu..%llu differ\n",
                            (unsigned long long)recv_n, (unsigned long long)recv_n + r);
                    ok = false;
                }
            }
            recv_n += (uint64_t)r;
            if (echo && recv_n >= total && sent >= total)
                break;
        }
    }
    {
        double ms = (now_s() - t0) * 1000;

        printf("local=%s:%u sent=%llu recv=%llu ms=%.0f mib_s=%.0f", lbuf,
               ntohs(local.sa.sa_family == AF_INET ? local.in4.sin_port : local.in6.sin6_port),
               (unsigned long long)sent, (unsigned long long)recv_n, ms,
               ms > 0 ? (double)recv_n / (1 << 20) / (ms / 1000) : 0);
        if (strcmp(mode, "alert") == 0) {
            printf(" got=");
            for (size_t i = 0; i < seen_len; i++)
                printf("%02x", seen[i]);
        }
        printf("\n");
    }
    if (strcmp(mode, "echo") == 0 && recv_n != total)
        ok = false;
    if (strcmp(mode, "respond") == 0 && recv_n != expect)
        ok = false;
    close(fd);
    return ok ? 0 : 1;
}
