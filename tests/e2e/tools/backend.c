/* A TLS-agnostic test backend for the e2e tests: listens on [::1]:PORT and serves each
 * connection in a child process with blocking I/O.
 *
 *   backend -p PORT -d DIR [-m echo|respond|send|half|reply] [-P] [-U] [-n BYTES] [-r FILE]
 *
 *   echo     sends back every byte it receives; on EOF shuts its write side and ends.
 *   respond  reads until EOF, then sends BYTES bytes of the test pattern and closes:
 *            proves the client's half-close arrived and the answer still gets through.
 *   send     sends BYTES bytes of the test pattern at once, then reads until EOF: a
 *            client that does not read makes it block, which shows where bytes queue.
 *   half     sends BYTES bytes of the test pattern, shuts its write side, then reads
 *            until EOF: its half-close comes first, and the client's bytes still arrive.
 *   reply    once the bytes received hold an empty line (the end of an HTTP head), sends
 *            the bytes of FILE (-r) as they are, once, shuts its write side and reads until
 *            EOF: a server whose answer, hop-by-hop fields or 101 included, the test
 *            writes byte by byte (one answer per connection, none to a second request).
 *   -P       the stream starts with a PROXY v1 or v2 header: parsed, described in
 *            DIR/N.proxy, not echoed.
 *   -U       a WebSocket server: reads the request head (DIR/N.head), answers 101, waits
 *            100 ms (the proxy hands the tunnel over to its relay once nothing waits,
 *            see docs/runtime.md), then serves the mode on the tunnel's bytes, which
 *            alone DIR/N.done counts.
 *
 * For connection N (1, 2, ...) it writes DIR/N.accepted at once, DIR/N.head (first bytes received, at most 4096,
 * after any PROXY header) and, at the end, DIR/N.done: "bytes=... fnv=..." over all bytes
 * received after the PROXY header. DIR/ready appears once it listens. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

static const char *dir = ".";
static const char *mode = "echo";
static int want_proxy, want_upgrade;
static uint64_t respond_bytes = 1 << 20;
static const char *reply_file;

static void
write_file(int n, const char *ext, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%d.%s", dir, n, ext);
    f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int
read_full(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t r = read(fd, p, len);

        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Reads and describes a PROXY header (haproxy proxy-protocol.txt §2.1, §2.2). */
static int
read_proxy(int fd, int n)
{
    static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                     0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
    uint8_t h[256];
    char text[512];
    size_t len = 0;

    if (read_full(fd, h, 16) == -1)
        return -1;
    if (memcmp(h, sig, 12) == 0) {
        size_t body = (size_t)h[14] << 8 | h[15];
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
        int af = h[13] >> 4 == 1 ? AF_INET : AF_INET6;
        size_t al = af == AF_INET ? 4 : 16;

        if (body > sizeof(h) - 16 || read_full(fd, h + 16, body) == -1)
            return -1;
        inet_ntop(af, h + 16, a, sizeof(a));
        inet_ntop(af, h + 16 + al, b, sizeof(b));
        snprintf(text, sizeof(text), "v2 ver_cmd=%02x fam=%02x len=%zu %s %s %u %u\n", h[12],
                 h[13], body, a, b, (unsigned)(h[16 + 2 * al] << 8 | h[17 + 2 * al]),
                 (unsigned)(h[18 + 2 * al] << 8 | h[19 + 2 * al]));
        write_file(n, "proxy", text, strlen(text));
        return 0;
    }
    len = 16;
    while (len < 108 && !(len >= 2 && h[len - 2] == '\r' && h[len - 1] == '\n')) {
        if (read_full(fd, h + len, 1) == -1)
            return -1;
        len++;
    }
    snprintf(text, sizeof(text), "v1 %.*s\n", (int)(len - 2), (char *)h);
    write_file(n, "proxy", text, strlen(text));
    return 0;
}

static uint8_t buf[65536];

/* -U: reads the request head byte by byte (the tunnel's bytes may follow it at once),
 * answers 101 and lets the proxy settle. Returns 0, or -1 when the stream ends first. */
static int
upgrade(int fd, int n)
{
    static const char answer[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n\r\n";
    char head[4096];
    size_t len = 0;

    while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
        if (len == sizeof(head) || read_full(fd, (uint8_t *)head + len, 1) == -1)
            return -1;
        len++;
    }
    write_file(n, "head", head, len);
    if (write_all(fd, (const uint8_t *)answer, sizeof(answer) - 1) == -1)
        return -1;
    usleep(100 * 1000);
    return 0;
}

static int
send_pattern(int fd, uint64_t bytes)
{
    for (uint64_t off = 0; off < bytes;) {
        size_t k = bytes - off < sizeof(buf) ? (size_t)(bytes - off) : sizeof(buf);

        pattern_fill(buf, off, k);
        if (write_all(fd, buf, k) == -1)
            return -1;
        off += k;
    }
    return 0;
}

/* Sends the bytes of reply_file. */
static void
send_reply(int fd)
{
    FILE *f = fopen(reply_file, "rb");
    size_t k;

    if (f == NULL)
        return;
    while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
        if (write_all(fd, buf, k) == -1)
            break;
    fclose(f);
}

static void
serve(int fd, int n)
{
    int replied = 0;
    uint8_t head[4096];
    size_t head_len = 0;
    uint64_t total = 0, fnv = FNV_INIT;
    char done[128];

    if (want_proxy && read_proxy(fd, n) == -1)
        _exit(1);
    if (want_upgrade && upgrade(fd, n) == -1)
        _exit(1);
    if (strcmp(mode, "send") == 0 || strcmp(mode, "half") == 0)
        send_pattern(fd, respond_bytes);
    if (strcmp(mode, "half") == 0)
        shutdown(fd, SHUT_WR);
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));

        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (!want_upgrade && head_len < sizeof(head)) {
            size_t k = (size_t)r < sizeof(head) - head_len ? (size_t)r : sizeof(head) - head_len;

            memcpy(head + head_len, buf, k);
            head_len += k;
            write_file(n, "head", head, head_len);
        }
        total += (uint64_t)r;
        fnv = fnv_update(fnv, buf, (size_t)r);
        if (strcmp(mode, "reply") == 0 && !replied && reply_file != NULL &&
            memmem(head, head_len, "\r\n\r\n", 4) != NULL) {
            send_reply(fd);
            shutdown(fd, SHUT_WR);
            replied = 1;
        }
        if (strcmp(mode, "echo") == 0 && write_all(fd, buf, (size_t)r) == -1)
            break;
    }
    if (strcmp(mode, "respond") == 0)
        send_pattern(fd, respond_bytes);
    shutdown(fd, SHUT_WR);
    snprintf(done, sizeof(done), "bytes=%llu fnv=%016llx\n", (unsigned long long)total,
             (unsigned long long)fnv);
    write_file(n, "done", done, strlen(done));
    /* Wait for the peer's FIN so the close sends no RST over unread bytes. */
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

int
main(int argc, char **argv)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int opt, lfd, one = 1, n = 0;
    char ready[512];

    while ((opt = getopt(argc, argv, "p:d:m:PUn:r:")) != -1) {
        switch (opt) {
        case 'p': a.sin6_port = htons((uint16_t)atoi(optarg)); break;
        case 'd': dir = optarg; break;
        case 'm': mode = optarg; break;
        case 'P': want_proxy = 1; break;
        case 'U': want_upgrade = 1; break;
        case 'n': respond_bytes = strtoull(optarg, NULL, 10); break;
        case 'r': reply_file = optarg; break;
        default: return 2;
        }
    }
    signal(SIGCHLD, SIG_IGN);       /* children are reaped by the kernel */
    lfd = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(lfd, 128) == -1) {
        perror("backend: bind");
        return 1;
    }
    snprintf(ready, sizeof(ready), "%s/ready", dir);
    {
        FILE *f = fopen(ready, "w");

        if (f == NULL) {
            perror(ready);
            return 1;
        }
        fclose(f);
    }
    for (;;) {
        int fd = accept(lfd, NULL, NULL);

        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return 1;
        }
        n++;
        write_file(n, "accepted", "", 0);
        if (fork() == 0) {
            close(lfd);
            serve(fd, n);
            _exit(0);
        }
        close(fd);
    }
}
