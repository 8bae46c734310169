/* l4load: bounded load and sink for measuring a layer-4 SNI proxy (or a direct path).
 *
 *   l4load sink  -p PORT [-r BYTES]
 *       listens on [::1]:PORT; per connection: after the first bytes arrive, answers BYTES
 *       bytes once (a stand-in for the ServerHello flight), discards everything else, and
 *       closes on EOF. Runs until SIGTERM. Prints "ready" once listening.
 *   l4load conn  -a ADDR -p PORT [-n NAME] [-N COUNT] [-c CONC] [-r BYTES] [-t SECS]
 *       COUNT new connections, CONC at a time: connect, send a ClientHello for NAME, read
 *       BYTES of answer, close. Prints "conns=... errors=... secs=... rate=...".
 *   l4load bulk  -a ADDR -p PORT [-n NAME] [-b BYTES] [-t SECS]
 *       one connection: the ClientHello, then BYTES bytes, then shutdown(SHUT_WR); waits for
 *       the sink's EOF (sent once it has read everything). Prints "bytes=... mib_s=...".
 *   l4load idle  -a ADDR -p PORT [-n NAME] [-N COUNT] [-c CONC] [-r BYTES] [-t SECS]
 *       opens COUNT connections (CONC at a time), each sends its ClientHello and reads BYTES
 *       of answer (so it is routed and relayed), prints "ready conns=...", then holds them
 *       idle for SECS or until SIGTERM.
 *
 * Every run is bounded in count and in time (-t, default 30 s) and ends by itself. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../e2e/tools/hello.h"
#include "../loadlib.h"

#define MAX_EVENTS 256

static uint8_t hello[HELLO_MAX];
static size_t hello_len;
static union {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
} dst;
static socklen_t dst_len;

/* ---- sink ---- */

struct sconn {
    uint64_t got;
    bool answered;
};

static int
run_sink(int port, size_t answer)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int one = 1, ep, lfd;
    static uint8_t buf[1 << 18];
    static uint8_t out[1 << 16];
    struct sconn *sc;
    struct rlimit r;
    struct epoll_event ev = { .events = EPOLLIN };

    getrlimit(RLIMIT_NOFILE, &r);
    sc = calloc(r.rlim_cur, sizeof(*sc));
    lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sc == NULL || bind(lfd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
        listen(lfd, 4096) == -1) {
        perror("l4load sink");
        return 2;
    }
    if (answer > sizeof(out))
        answer = sizeof(out);
    memset(out, 0x17, sizeof(out));
    ep = epoll_create1(0);
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    printf("ready\n");
    fflush(stdout);
    while (!stop_flag) {
        struct epoll_event evs[MAX_EVENTS];
        int k = epoll_wait(ep, evs, MAX_EVENTS, 200);

        for (int i = 0; i < k; i++) {
            int fd = evs[i].data.fd;

            if (fd == lfd) {
                int c;

                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
                    if ((rlim_t)c >= r.rlim_cur) {
                        close(c);
                        continue;
                    }
                    sc[c] = (struct sconn){ 0 };
                    ev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n > 0) {
                    sc[fd].got += (uint64_t)n;
                    if (!sc[fd].answered && answer > 0) {
                        ssize_t w = send(fd, out, answer, MSG_NOSIGNAL);

                        (void)w;
                        sc[fd].answered = true;
                    }
                    if ((size_t)n < sizeof(buf))
                        break;
                    continue;
                }
                if (n == -1 && errno == EAGAIN)
                    break;
                close(fd);
                break;
            }
        }
    }
    return 0;
}

/* ---- clients ---- */

struct cconn {
    int fd;
    size_t sent, got;
};

static int
open_conn(void)
{
    int fd = socket(dst.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

    if (fd == -1)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, &dst.sa, dst_len) == -1 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* conn and idle: keep conc connections going until count have been opened; conn closes
 * each one once answered, idle keeps it. */
static int
run_conns(bool idle, long count, long conc, size_t answer, double secs)
{
    /* idle keeps every connection, so it needs a slot each; conn reuses conc slots. */
    long slots = idle ? count : conc, nfree = slots;
    struct cconn *cc = calloc((size_t)slots, sizeof(*cc));
    long *free_slot = calloc((size_t)slots, sizeof(*free_slot));
    int ep = epoll_create1(0);
    long opened = 0, done = 0, errors = 0, active = 0, held = 0;
    double t0 = now_s(), deadline = t0 + secs;
    static uint8_t buf[1 << 16];

    if (cc == NULL || free_slot == NULL)
        return 2;
    for (long i = 0; i < slots; i++)
        free_slot[i] = slots - 1 - i;
    while (!stop_flag && now_s() < deadline && done + errors + held < count) {
        struct epoll_event evs[MAX_EVENTS];
        int k;

        while (active < conc && opened < count && nfree > 0) {
            long i = free_slot[--nfree];
            struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };

            cc[i] = (struct cconn){ .fd = open_conn() };
            opened++;
            if (cc[i].fd == -1) {
                errors++;
                free_slot[nfree++] = i;
                continue;
            }
            epoll_ctl(ep, EPOLL_CTL_ADD, cc[i].fd, &ev);
            active++;
        }
        if (active == 0)
            break;
        k = epoll_wait(ep, evs, MAX_EVENTS, 100);
        for (int j = 0; j < k; j++) {
            struct cconn *c = &cc[evs[j].data.u64];
            bool fail = false, finished = false;

            if (evs[j].events & EPOLLOUT) {
                ssize_t n = send(c->fd, hello + c->sent, hello_len - c->sent, MSG_NOSIGNAL);

                if (n > 0)
                    c->sent += (size_t)n;
                else if (errno != EAGAIN)
                    fail = true;
                if (c->sent == hello_len) {
                    struct epoll_event ev = { .events = EPOLLIN, .data = evs[j].data };

                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!fail && (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

                if (n > 0)
                    c->got += (size_t)n;
                else if (n == 0 || errno != EAGAIN)
                    fail = true;
                finished = c->got >= answer;
            }
            if (fail) {
                errors++;
            } else if (finished && idle) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                held++;
                active--;
                continue;           /* held: the slot is not reused */
            } else if (finished) {
                done++;
            } else {
                continue;
            }
            close(c->fd);
            c->fd = -1;
            free_slot[nfree++] = (long)evs[j].data.u64;
            active--;
        }
    }
    {
        double dt = now_s() - t0;

        if (!idle) {
            printf("conns=%ld errors=%ld secs=%.3f rate=%.0f\n", done, errors, dt,
                   dt > 0 ? done / dt : 0);
            return errors == 0 && done == count ? 0 : 1;
        }
        printf("ready conns=%ld errors=%ld secs=%.3f\n", held, errors, dt);
        fflush(stdout);
        while (!stop_flag && now_s() < deadline)
            poll(NULL, 0, 100);
        printf("done\n");
        return errors == 0 && held == count ? 0 : 1;
    }
}

static int
run_bulk(uint64_t bytes, double secs)
{
    int fd = open_conn();
    uint64_t sent = 0, total = hello_len + bytes;
    static uint8_t buf[1 << 18];
    double t0 = now_s(), deadline = t0 + secs, dt;
    bool shut = false;

    if (fd == -1) {
        perror("l4load bulk");
        return 2;
    }
    memset(buf, 0x17, sizeof(buf));
    memcpy(buf, hello, hello_len);
    while (!stop_flag && now_s() < deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN | (shut ? 0 : POLLOUT) };
        ssize_t n;

        if (poll(&p, 1, 100) <= 0)
            continue;
        if (p.revents & POLLOUT) {
            /* The hello comes first, then the payload, in big writes. */
            size_t k = sent < hello_len ? hello_len - sent : sizeof(buf);

            if (k > total - sent)
                k = (size_t)(total - sent);
            n = send(fd, sent < hello_len ? hello + sent : buf, k, MSG_NOSIGNAL);
            if (n > 0)
                sent += (uint64_t)n;
            else if (errno != EAGAIN)
                break;
            if (sent == total) {
                shutdown(fd, SHUT_WR);
                shut = true;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(fd, buf + hello_len, sizeof(buf) - hello_len, 0);
            if (n == 0 || (n == -1 && errno != EAGAIN))
                break;
        }
    }
    dt = now_s() - t0;
    close(fd);
    printf("bytes=%llu secs=%.3f mib_s=%.0f\n", (unsigned long long)sent, dt,
           sent == total ? (double)bytes / (1 << 20) / dt : 0);
    return sent == total ? 0 : 1;
}

int
main(int argc, char **argv)
{
    const char *mode, *addr = "127.0.0.1", *name = "a.bench.test";
    long count = 1000, conc = 32;
    uint64_t bytes = 1ull << 30;
    size_t answer = 0;
    double secs = 30;
    int port = 0, opt;

    if (argc < 2)
        goto usage;
    mode = argv[1];
    optind = 2;
    while ((opt = getopt(argc, argv, "a:p:n:N:c:r:b:t:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': name = optarg; break;
        case 'N': count = atol(optarg); break;
        case 'c': conc = atol(optarg); break;
        case 'r': answer = (size_t)atol(optarg); break;
        case 'b': bytes = strtoull(optarg, NULL, 10); break;
        case 't': secs = atof(optarg); break;
        default: goto usage;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    hello_len = hello_build(hello, name, 0);
    if (strcmp(mode, "sink") == 0)
        return run_sink(port, answer);
    if (strchr(addr, ':') != NULL) {
        dst.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port) };
        inet_pton(AF_INET6, addr, &dst.in6.sin6_addr);
        dst_len = sizeof(dst.in6);
    } else {
        dst.in4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
        inet_pton(AF_INET, addr, &dst.in4.sin_addr);
        dst_len = sizeof(dst.in4);
    }
    if (conc > count)
        conc = count;
    if (strcmp(mode, "conn") == 0)
        return run_conns(false, count, conc, answer, secs);
    if (strcmp(mode, "idle") == 0)
        return run_conns(true, count, conc, answer, secs);
    if (strcmp(mode, "bulk") == 0)
        return run_bulk(bytes, secs);
usage:
    fprintf(stderr, "usage: l4load sink|conn|bulk|idle [options], see the source\n");
    return 2;
}
