/* Process-level probes for the e2e tests (tests/e2e/proc_*.sh): holding many connections,
 * hammering a listener, receiving syslog datagrams, a server that never accepts, and the
 * admin socket.
 *
 *   probe hold -a ADDR -p PORT -f HELLO -c COUNT [-t SECONDS] [-r BYTES]
 *       opens COUNT connections, sends the file HELLO on each, prints "connected=N" and
 *       holds them until SIGTERM or SECONDS (default 60); then prints "echoed=N": how many
 *       got their HELLO back (an echo backend answered through the proxy) and exits.
 *       With -r, first reads BYTES from each connection (10 s at most for all) and prints
 *       "read=N", how many gave them all, then stops reading: a client that stalls in
 *       the middle of a download.
 *   probe hammer -a ADDR -p PORT -f HELLO [-t SECONDS] [-c MAX] [-H]
 *       one connection after another until SECONDS (default 5) pass, MAX (default 100000)
 *       are made or SIGTERM: each sends HELLO plus 64 bytes and expects them back from an
 *       echo backend, then closes. Prints "ok=N fail=M" (and the first failure's reason).
 *       With -H, HELLO is an HTTP request (with "Connection: close") sent as it is; the
 *       answer must be a 200 whose body is as long as its Content-Length, then EOF.
 *   probe syslog PATH
 *       binds a unix datagram socket at PATH and prints each datagram as one line.
 *   probe udp -a ADDR -p PORT
 *       the same on a UDP socket bound to ADDR:PORT (syslog over UDP, RFC 5426).
 *   probe blackhole -p PORT [-t SECONDS]
 *       listens on [::1]:PORT with backlog 0, never accepts, and fills the queue with one
 *       connection of its own so that further SYNs are dropped; prints "ready". With -t,
 *       after SECONDS it empties the queue and echoes what each connection sends, one
 *       connection at a time: a server whose first SYN went unanswered.
 *   probe admin PATH [-t SECONDS] [-w] [-s] LINE...
 *       connects to the unix stream socket PATH, sends each LINE followed by "\n", prints
 *       everything received until the server closes (or SECONDS, default 5, pass: exit 1).
 *       With -w it then prints "closed after MS" (milliseconds from connect to EOF). With
 *       -s it reads nothing: it prints "sent", holds the connection for SECONDS, exits 0.
 *
 * Exit 0 on success, 1 when the expected answer did not come, 2 on usage or set-up errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "now.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int
usage(void)
{
    fprintf(stderr, "usage: probe hold|hammer|syslog|udp|blackhole|admin ... (see probe.c)\n");
    return 2;
}

static int
resolve(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
    }
    return -1;
}

/* A blocking connect with a deadline; returns the socket (non-blocking) or -1. */
static int
connect_to(const struct sockaddr_storage *ss, socklen_t len, double timeout)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct pollfd p;
    int err = 0;
    socklen_t el = sizeof(err);

    if (fd == -1)
        return -1;
    if (connect(fd, (const struct sockaddr *)ss, len) == 0)
        return fd;
    if (errno != EINPROGRESS)
        goto fail;
    p = (struct pollfd){ .fd = fd, .events = POLLOUT };
    if (poll(&p, 1, (int)(timeout * 1000)) != 1)
        goto fail;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 || err != 0) {
        errno = err;
        goto fail;
    }
    return fd;
fail:;
    int e = errno;

    close(fd);
    errno = e;
    return -1;
}

/* Sends all of data within the deadline; 0 or -1. */
static int
send_all(int fd, const uint8_t *data, size_t len, double deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n == -1 && errno != EAGAIN && errno != EINTR)
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        double left = deadline - now_s();

        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == -1)
            return -1;
    }
    return 0;
}

/* Waits until fd is readable; 0, or -1 with *why set once the deadline has passed. */
static int
wait_readable(int fd, double deadline, const char **why)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    double left = deadline - now_s();

    if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == -1) {
        *why = "timeout";
        return -1;
    }
    return 0;
}

/* Reads exactly len bytes and compares them with want; 0, or -1 with *why set. */
static int
recv_expect(int fd, const uint8_t *want, size_t len, double deadline, const char **why)
{
    uint8_t buf[4096];
    size_t got = 0;

    while (got < len) {
        size_t ask = len - got < sizeof(buf) ? len - got : sizeof(buf);
        ssize_t n = recv(fd, buf, ask, 0);

        if (n > 0) {
            if (memcmp(buf, want + got, (size_t)n) != 0) {
                *why = "wrong bytes";
                return -1;
            }
            got += (size_t)n;
            continue;
        }
        if (n == 0) {
            *why = "early eof";
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR) {
            *why = strerror(errno);
            return -1;
        }
        if (wait_readable(fd, deadline, why) == -1)
            return -1;
    }
    return 0;
}

/* Reads and drops len bytes within the deadline; 0 or -1. */
static int
recv_some(int fd, size_t len, double deadline)
{
    uint8_t buf[65536];

    while (len > 0) {
        ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            len -= (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        double left = deadline - now_s();

        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == -1)
            return -1;
    }
    return 0;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    static uint8_t data[65536];
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return NULL;
    *len = fread(data, 1, sizeof(data), f);
    fclose(f);
    return data;
}

struct opts {
    const char *addr, *file;
    int port, count;
    long read_bytes;
    double seconds;
    bool wait_eof, http, silent;
};

static int
parse(int argc, char **argv, struct opts *o)
{
    int opt;

    while ((opt = getopt(argc, argv, "a:p:f:c:t:wHsr:")) != -1) {
        switch (opt) {
        case 'a': o->addr = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 'f': o->file = optarg; break;
        case 'c': o->count = atoi(optarg); break;
        case 't': o->seconds = atof(optarg); break;
        case 'w': o->wait_eof = true; break;
        case 'H': o->http = true; break;
        case 's': o->silent = true; break;
        case 'r': o->read_bytes = atol(optarg); break;
        default: return -1;
        }
    }
    return 0;
}

static int
cmd_hold(struct opts *o)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    size_t hlen;
    uint8_t *hello = read_file(o->file, &hlen);
    int *fds = calloc((size_t)o->count, sizeof(int));
    int connected = 0, echoed = 0;
    double end = now_s() + (o->seconds > 0 ? o->seconds : 60);

    if (hello == NULL || fds == NULL || resolve(o->addr, o->port, &ss, &sl) == -1)
        return 2;
    for (int i = 0; i < o->count; i++) {
        fds[i] = connect_to(&ss, sl, 5);
        if (fds[i] != -1 && send_all(fds[i], hello, hlen, now_s() + 5) == 0)
            connected++;
    }
    printf("connected=%d\n", connected);
    fflush(stdout);
    if (o->read_bytes > 0) {
        /* One deadline for all: the ones served come first, in the order they connected,
         * and may take their time on a loaded machine; the rest wait in the backlog. */
        double until = now_s() + 10;
        int full = 0;

        for (int i = 0; i < o->count; i++)
            if (fds[i] != -1 && recv_some(fds[i], (size_t)o->read_bytes, until) == 0)
                full++;
        printf("read=%d\n", full);
        fflush(stdout);
    }
    while (!stop && now_s() < end)
        poll(NULL, 0, 20);
    /* Count every echo before closing any: a close lets the proxy serve a waiting one. */
    for (int i = 0; i < o->count; i++) {
        const char *why;

        if (fds[i] != -1 && recv_expect(fds[i], hello, hlen, now_s() + 0.01, &why) == 0)
            echoed++;
    }
    for (int i = 0; i < o->count; i++)
        if (fds[i] != -1)
            close(fds[i]);
    printf("echoed=%d\n", echoed);
    free(fds);
    return 0;
}

/* Reads an HTTP answer until EOF: a 200 whose body is exactly its Content-Length.
 * 0, or -1 with *why set (a reset and an EOF before any byte are told apart). */
static int
recv_http_200(int fd, double deadline, const char **why)
{
    static char buf[65536];
    size_t got = 0;
    const char *end, *cl;

    for (;;) {
        ssize_t n = got < sizeof(buf) - 1 ? recv(fd, buf + got, sizeof(buf) - 1 - got, 0) : 0;

        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0)
            break;
        if (errno != EAGAIN && errno != EINTR) {
            *why = got == 0 ? strerror(errno) : "error after some bytes";
            return -1;
        }
        if (wait_readable(fd, deadline, why) == -1)
            return -1;
    }
    buf[got] = '\0';
    if (got == 0) {
        *why = "eof before any byte";
        return -1;
    }
    if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || (end = strstr(buf, "\r\n\r\n")) == NULL ||
        (cl = strcasestr(buf, "\r\ncontent-length:")) == NULL || cl > end ||
        strtoul(cl + 17, NULL, 10) != got - (size_t)(end + 4 - buf)) {
        *why = "not a whole 200";
        return -1;
    }
    return 0;
}

static int
cmd_hammer(struct opts *o)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    size_t hlen;
    uint8_t *hello = read_file(o->file, &hlen), msg[65536 + 64];
    double end = now_s() + (o->seconds > 0 ? o->seconds : 5);
    int max = o->count > 0 ? o->count : 100000, ok = 0, fail = 0;
    const char *first = NULL;

    if (hello == NULL || hlen + 64 > sizeof(msg) || resolve(o->addr, o->port, &ss, &sl) == -1)
        return 2;
    memcpy(msg, hello, hlen);
    for (int i = 0; i < 64 && !o->http; i++)
        msg[hlen++] = (uint8_t)('a' + i % 26);
    while (!stop && now_s() < end && ok + fail < max) {
        const char *why = NULL;
        int fd = connect_to(&ss, sl, 5);

        if (fd == -1)
            why = strerror(errno);
        else if (send_all(fd, msg, hlen, now_s() + 5) == -1)
            why = "send failed";
        else if (o->http)
            recv_http_200(fd, now_s() + 5, &why);
        else
            recv_expect(fd, msg, hlen, now_s() + 5, &why);
        if (fd != -1)
            close(fd);
        if (why == NULL) {
            ok++;
        } else {
            fail++;
            if (first == NULL)
                first = why;
        }
    }
    printf("ok=%d fail=%d%s%s\n", ok, fail, first ? " first=" : "", first ? first : "");
    return fail == 0 && ok > 0 ? 0 : 1;
}

/* Prints each datagram received on fd as one line, until SIGTERM. */
static void
print_datagrams(int fd)
{
    char buf[8192];

    while (!stop) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            break;
        fwrite(buf, 1, (size_t)n, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
}

static int
cmd_syslog(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd == -1 || strlen(path) >= sizeof(sa.sun_path))
        return 2;
    strcpy(sa.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        perror("probe syslog: bind");
        return 2;
    }
    chmod(path, 0666);
    print_datagrams(fd);
    unlink(path);
    return 0;
}

static int
cmd_udp(const struct opts *o)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    if (resolve(o->addr, o->port, &ss, &len) == -1)
        return usage();
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1 || bind(fd, (struct sockaddr *)&ss, len) == -1) {
        perror("probe udp: bind");
        return 2;
    }
    print_datagrams(fd);
    return 0;
}

/* Accepts one connection on the listening socket fd (the first may be a filler whose
 * client side is closed: it just ends) and sends back all it reads until EOF, but for a
 * PROXY v1 line at the start, which it prints instead. */
static void
echo_one(int fd)
{
    char buf[16384];
    int c = accept(fd, NULL, NULL);
    bool first = true;
    ssize_t n;

    if (c == -1)
        return;
    while ((n = read(c, buf, sizeof(buf))) > 0) {
        char *p = buf, *eol;

        if (first && n > 6 && memcmp(buf, "PROXY ", 6) == 0 &&
            (eol = memmem(buf, (size_t)n, "\r\n", 2)) != NULL) {
            printf("%.*s\n", (int)(eol - buf), buf);
            fflush(stdout);
            p = eol + 2;
        }
        first = false;
        if (write(c, p, (size_t)(buf + n - p)) != buf + n - p)
            break;
    }
    close(c);
}

static int
cmd_blackhole(struct opts *o)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), filler;

    if (fd == -1 || resolve("::1", o->port, &ss, &sl) == -1)
        return 2;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) == -1 || listen(fd, 0) == -1) {
        perror("probe blackhole");
        return 2;
    }
    /* Backlog 0 still queues one connection (Linux): take that place ourselves. */
    filler = connect_to(&ss, sl, 2);
    if (filler == -1) {
        perror("probe blackhole: filler");
        return 2;
    }
    printf("ready\n");
    fflush(stdout);
    if (o->seconds <= 0) {
        while (!stop)
            pause();
    } else {
        struct timespec ts = { (time_t)o->seconds,
                               (long)((o->seconds - (double)(time_t)o->seconds) * 1e9) };

        while (!stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
        close(filler);
        filler = -1;
        while (!stop)
            echo_one(fd);
    }
    if (filler != -1)
        close(filler);
    close(fd);
    return 0;
}

static int
cmd_admin(const char *path, struct opts *o, int argc, char **argv)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    double t0 = now_s(), end = t0 + (o->seconds > 0 ? o->seconds : 5);
    char buf[65536];

    if (fd == -1 || strlen(path) >= sizeof(sa.sun_path))
        return 2;
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        fprintf(stderr, "probe admin: %s: %s\n", path, strerror(errno));
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        char line[1024];
        int n = snprintf(line, sizeof(line), "%s\n", argv[i]);

        if (n < 0 || (size_t)n >= sizeof(line) || send_all(fd, (uint8_t *)line, (size_t)n, end))
            return 2;
    }
    if (o->silent) {
        printf("sent\n");
        fflush(stdout);
        while (!stop && now_s() < end)
            poll(NULL, 0, 20);
        close(fd);
        return 0;
    }
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        double left = end - now_s();
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) != 1) {
            fprintf(stderr, "probe admin: no end of answer within the deadline\n");
            return 1;
        }
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        fwrite(buf, 1, (size_t)n, stdout);
    }
    if (o->wait_eof)
        printf("\nclosed after %ld\n", (long)((now_s() - t0) * 1000));
    close(fd);
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o = { .addr = "::1" };
    struct sigaction sa = { .sa_handler = on_term };
    const char *cmd;

    if (argc < 2)
        return usage();
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    cmd = argv[1];
    if (strcmp(cmd, "syslog") == 0 && argc == 3)
        return cmd_syslog(argv[2]);
    if (strcmp(cmd, "admin") == 0 && argc >= 3) {
        const char *path = argv[2];

        optind = 3;
        if (parse(argc, argv, &o) == -1)
            return usage();
        return cmd_admin(path, &o, argc - optind, argv + optind);
    }
    optind = 2;
    if (parse(argc, argv, &o) == -1 || optind != argc)
        return usage();
    if (strcmp(cmd, "hold") == 0 && o.file && o.port && o.count > 0)
        return cmd_hold(&o);
    if (strcmp(cmd, "hammer") == 0 && o.file && o.port)
        return cmd_hammer(&o);
    if (strcmp(cmd, "blackhole") == 0 && o.port)
        return cmd_blackhole(&o);
    if (strcmp(cmd, "udp") == 0 && o.port)
        return cmd_udp(&o);
    return usage();
}
