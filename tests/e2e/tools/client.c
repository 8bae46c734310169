/* A TLS-agnostic test client for the e2e tests: sends a ClientHello for a chosen name,
 * then bytes of the test pattern, and checks what comes back.
 *
 *   client -a ADDR -p PORT [-n NAME|-] [-U] [-r RECORD] [-k BYTES] [-b] [-s BYTES]
 *          [-u BYTES] [-w MS] [-e BYTES] [-m echo|respond|alert|silent|deaf|dump]
 *          [-t SECONDS]
 *
 *   -n     server_name in the hello ("-": no server_name extension)
 *   -U     a WebSocket instead: sends an upgrade request for NAME (Host) instead of the
 *          hello and reads the answer's head, which must be a 101; what follows is the
 *          tunnel, where the pattern goes as after a hello (and the echo is the pattern's
 *          alone). The result line adds req= and head=, the two heads' lengths
 *   -r     split the handshake message into TLS records of RECORD bytes each
 *   -k     offer a key share of BYTES (up to 65000) in the hello, which makes it that much
 *          larger (over 16 KiB it takes more than one record)
 *   -b     send the hello byte by byte, a TCP segment each
 *   -s     send the hello and the pattern in writes of BYTES, 1 ms apart, before reading
 *          anything (keep -u small in echo mode: nothing is read meanwhile)
 *   -u     pattern bytes to send after the hello
 *   -w     pause MS milliseconds between the hello and the pattern
 *   echo     (default) expects every byte sent back, in order, checked byte by byte
 *   respond  shuts its write side after sending, expects -e BYTES of pattern, then EOF
 *            (before or after its own: it sends all its bytes either way)
 *   alert    prints what comes back, in hex, until EOF
 *   silent   sends nothing, waits for EOF, prints how long it took
 *   deaf     sends the hello and the pattern, never reads, exits after -t SECONDS
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hello.h"
#include "now.h"
#include "pattern.h"

static uint8_t hello[HELLO_SHARE_OUT_MAX];
static size_t hello_len;
static size_t head_len;             /* -U: the 101's head, as received */

/* -U: the upgrade request for name into out[HELLO_SHARE_OUT_MAX]. Returns its length. */
static size_t
upgrade_build(uint8_t *out, const char *name)
{
    int n = snprintf((char *)out, HELLO_SHARE_OUT_MAX,
                     "GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", name != NULL ? name : "-");

    return n > 0 ? (size_t)n : 0;
}

/* -U: sends the upgrade request, then reads the answer's head byte by byte (the tunnel's
 * bytes may follow it at once). Returns 0 when it is a 101, -1 when not. */
static int
upgrade(int fd, double timeout)
{
    struct timeval tv = { (time_t)timeout, (long)((timeout - (time_t)timeout) * 1e6) };
    char head[4096];

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (write(fd, hello, hello_len) != (ssize_t)hello_len)
        return -1;
    for (head_len = 0; head_len < sizeof(head); head_len++) {
        if (read(fd, head + head_len, 1) != 1)
            return -1;
        if (head_len >= 3 && memcmp(head + head_len - 3, "\r\n\r\n", 4) == 0)
            break;
    }
    head_len++;
    if (head_len > sizeof(head) || strncmp(head, "HTTP/1.1 101 ", 13) != 0) {
        fprintf(stderr, "client: no 101: %.*s\n", (int)(head_len < 64 ? head_len : 64), head);
        return -1;
    }
    return 0;
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

/* Sends bytes *sent .. total of the stream in writes of at most segment bytes (0: as many
 * as fit), 1 ms apart when segment is set, until all are sent or the deadline passes
 * (then 0 too: a receiver that stops reading is what some tests want). -1 on errors. */
static int
send_pieces(int fd, uint64_t *sent, uint64_t total, size_t segment, double deadline)
{
    static uint8_t piece[65536];
    int flags = fcntl(fd, F_GETFL);

    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    while (*sent < total && now_s() < deadline) {
        size_t k = total - *sent < sizeof(piece) ? (size_t)(total - *sent) : sizeof(piece);
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        ssize_t r;

        if (segment > 0 && k > segment)
            k = segment;
        fill_sent(piece, *sent, k);
        r = write(fd, piece, k);
        if (r == -1 && errno != EAGAIN)
            return -1;
        if (r == -1) {
            poll(&p, 1, 20);
            continue;
        }
        *sent += (uint64_t)r;
        if (segment > 0)
            poll(NULL, 0, 1);
    }
    fcntl(fd, F_SETFL, flags);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *name = "alpha.test", *mode = "echo";
    uint64_t payload = 0, expect = 0, sent = 0, recv_n = 0, total;
    size_t record = 0, share = 0, segment = 0;
    bool bytewise = false, shut = false, ok = true, websocket = false, eof = false;
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

    while ((opt = getopt(argc, argv, "a:p:n:Ur:k:bs:u:e:m:t:w:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': name = strcmp(optarg, "-") == 0 ? NULL : optarg; break;
        case 'r': record = (size_t)atoi(optarg); break;
        case 'k': share = (size_t)atoi(optarg); break;
        case 's': segment = (size_t)atoi(optarg); break;
        case 'b': bytewise = true; break;
        case 'U': websocket = true; break;
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
    if (share > HELLO_SHARE_MAX)
        return 2;
    hello_len = websocket ? upgrade_build(hello, name)
                          : hello_build_share(hello, name, record, share);
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
    if (websocket) {
        if (upgrade(fd, timeout) == -1)
            return 1;
        printf("req=%zu head=%zu ", hello_len, head_len);
        hello_len = 0;              /* from here on, the tunnel */
        total = strcmp(mode, "silent") == 0 ? 0 : payload;
    }
    if (bytewise) {
        for (; sent < hello_len; sent++) {
            struct timespec pause = { 0, 2000000 };

            if (write(fd, hello + sent, 1) != 1)
                return 2;
            nanosleep(&pause, NULL);
        }
    }
    if (segment > 0 || strcmp(mode, "deaf") == 0) {
        if (send_pieces(fd, &sent, total, segment, deadline) == -1)
            return 2;
    }
    if (strcmp(mode, "deaf") == 0) {
        while (now_s() < deadline)
            poll(NULL, 0, 20);
        printf("local=%s:%u sent=%llu\n", lbuf, ntohs(local.sa.sa_family == AF_INET ?
               local.in4.sin_port : local.in6.sin6_port), (unsigned long long)sent);
        close(fd);
        return 0;
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
        struct pollfd p = { .fd = fd, .events = eof ? 0 : POLLIN };
        double left = deadline - now_s();
        ssize_t r;

        if (sent < total)
            p.events |= POLLOUT;
        else if (!shut && strcmp(mode, "respond") == 0) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (eof && sent >= total)
            break;
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
            if (r == 0 && strcmp(mode, "respond") == 0 && sent < total) {
                eof = true;         /* the server's half-close came first */
                continue;
            }
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
    if (strcmp(mode, "respond") == 0 && (recv_n != expect || sent != total))
        ok = false;
    close(fd);
    return ok ? 0 : 1;
}
