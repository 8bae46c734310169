/* httpd: a small HTTP/1.1 test backend for the layer-7 end-to-end tests.
 *
 *     httpd -n NAME -p PORT [-a ADDR] [-t SECONDS] [-L LOGFILE] [-i IDLE_MS]
 *
 * Listens on ADDR (default ::1) port PORT, one process per connection (each dies with the
 * parent and after SECONDS; with -i, also after IDLE_MS without a request, as a server's
 * keep-alive timeout does). A PROXY protocol v1 line before the first request of a
 * connection is accepted and reported. Every answer is a text body describing what arrived:
 *
 *     server=NAME  cid=<connection id>  nreq=<request number on that connection>
 *     method=GET  path=/x  host=one.test  version=1.1
 *     xff=<X-Forwarded-For or ->  xfp=<X-Forwarded-Proto or ->
 *     body_len=N  body_cksum=<POSIX cksum CRC of the body, as cksum(1) prints it>
 *     proxy=<the PROXY line, when the connection began with one>
 *
 * Request bodies: Content-Length or chunked (decoded); "Expect: 100-continue" is answered
 * with "100 Continue" first. The path selects the behaviour:
 *
 *     /status/NNN      answer with status NNN (204 and 304 without a body)
 *     /chunked         the answer is chunked
 *     /close           no Content-Length: the body ends when the connection closes
 *     /upgrade         with "Upgrade:", answer 101 and then echo every byte back
 *     /big/N           the body is N bytes of a repeating pattern after the description
 *     /close/N         as /close, with N bytes of that pattern after the description
 *     /cut/N           as /big/N, but the connection closes after half of the N bytes
 *     /extra/N         as /big/N, then "junk\n" right after the body, which no client asked for
 *     /sleep/MS        wait MS milliseconds before answering
 *     /bad             answer with bytes that are not HTTP
 *     /nocontinue      do not send 100 Continue
 *     /die             read the request, then close without answering
 *
 * HEAD gets the head the GET would get. Each request is appended to LOGFILE as one line
 * "NAME METHOD PATH host=HOST body_len=N". Bounded: the parent exits after SECONDS (default
 * 120), each connection after SECONDS too. Loopback only: ADDR must be a loopback address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)

static const char *name = "httpd";
static const char *logfile;
static unsigned lifetime = 120;
static int idle_ms;                 /* 0: wait for the next request as long as it takes */
static char proxy_line[256];        /* the PROXY line of this connection, if any */

struct reader {
    int fd;
    size_t pos, len;
    char buf[HEAD_MAX];
};

struct request {
    char method[32], path[2048], host[512], xff[512], xfp[64], upgrade[128];
    int minor;
    bool chunked, has_length, expect_continue, close, keep_alive, conn_upgrade;
    uint64_t length;
};

/* ---- POSIX cksum (the CRC of cksum(1)) ---- */

static uint32_t crc_table[256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;

        for (int k = 0; k < 8; k++)
            c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
        crc_table[i] = c;
    }
}

static uint32_t
crc_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        crc = (crc << 8) ^ crc_table[((crc >> 24) ^ p[i]) & 0xff];
    return crc;
}

static uint32_t
crc_final(uint32_t crc, uint64_t len)
{
    for (; len > 0; len >>= 8) {
        unsigned char b = (unsigned char)(len & 0xff);

        crc = crc_update(crc, &b, 1);
    }
    return ~crc;
}

/* ---- I/O ---- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "httpd %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static bool
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads more bytes into r; false on EOF or error. */
static bool
fill(struct reader *r)
{
    ssize_t n;

    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == sizeof(r->buf))
        return false;
    do {
        n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
    } while (n == -1 && errno == EINTR);
    if (n <= 0)
        return false;
    r->len += (size_t)n;
    return true;
}

/* One CRLF-terminated line into out (without the CRLF); false on EOF or overlong line. */
static bool
read_line(struct reader *r, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);

        if (nl != NULL) {
            size_t n = (size_t)(nl - (r->buf + r->pos));

            if (n > 0 && nl[-1] == '\r')
                n--;
            if (n >= cap)
                return false;
            memcpy(out, r->buf + r->pos, n);
            out[n] = '\0';
            r->pos = (size_t)(nl - r->buf) + 1;
            return true;
        }
        if (!fill(r))
            return false;
    }
}

static void
copy_value(char *dst, size_t cap, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    snprintf(dst, cap, "%s", v);
    for (size_t n = strlen(dst); n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\t'); n--)
        dst[n - 1] = '\0';
}

static bool
has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);

    for (const char *p = list; *p != '\0';) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (strncasecmp(p, token, tl) == 0 && (p[tl] == '\0' || p[tl] == ',' || p[tl] == ' '))
            return true;
        while (*p != '\0' && *p != ',')
            p++;
    }
    return false;
}

/* Reads a request head; false on EOF before one or a malformed head. */
static bool
read_head(struct reader *r, struct request *q, bool first)
{
    char line[HEAD_MAX], version[16];

    memset(q, 0, sizeof(*q));
    strcpy(q->xff, "-");
    strcpy(q->xfp, "-");
    do {
        if (!read_line(r, line, sizeof(line)))
            return false;
        if (first && strncmp(line, "PROXY ", 6) == 0) {
            snprintf(proxy_line, sizeof(proxy_line), "%.200s", line);
            line[0] = '\0';
        }
        first = false;
    } while (line[0] == '\0');
    if (sscanf(line, "%31s %2047s %15s", q->method, q->path, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0)
        return false;
    q->minor = version[7] - '0';
    for (;;) {
        char *colon;

        if (!read_line(r, line, sizeof(line)))
            return false;
        if (line[0] == '\0')
            break;
        colon = strchr(line, ':');
        if (colon == NULL)
            return false;
        *colon = '\0';
        if (strcasecmp(line, "Host") == 0)
            copy_value(q->host, sizeof(q->host), colon + 1);
        else if (strcasecmp(line, "X-Forwarded-For") == 0)
            copy_value(q->xff, sizeof(q->xff), colon + 1);
        else if (strcasecmp(line, "X-Forwarded-Proto") == 0)
            copy_value(q->xfp, sizeof(q->xfp), colon + 1);
        else if (strcasecmp(line, "Upgrade") == 0)
            copy_value(q->upgrade, sizeof(q->upgrade), colon + 1);
        else if (strcasecmp(line, "Content-Length") == 0) {
            q->has_length = true;
            q->length = strtoull(colon + 1, NULL, 10);
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            q->chunked = has_token(colon + 1, "chunked");
        } else if (strcasecmp(line, "Expect") == 0) {
            q->expect_continue = has_token(colon + 1, "100-continue");
        } else if (strcasecmp(line, "Connection") == 0) {
            q->close = q->close || has_token(colon + 1, "close");
            q->keep_alive = q->keep_alive || has_token(colon + 1, "keep-alive");
            q->conn_upgrade = q->conn_upgrade || has_token(colon + 1, "upgrade");
        }
    }
    return true;
}

/* Reads n body bytes, feeding the checksum; false on EOF. */
static bool
read_body_bytes(struct reader *r, uint64_t n, uint32_t *crc)
{
    while (n > 0) {
        size_t take;

        if (r->pos == r->len && !fill(r))
            return false;
        take = r->len - r->pos;
        if (take > n)
            take = (size_t)n;
        *crc = crc_update(*crc, r->buf + r->pos, take);
        r->pos += take;
        n -= take;
    }
    return true;
}

static bool
read_body(struct reader *r, const struct request *q, uint64_t *len, uint32_t *crc)
{
    char line[4096];

    *len = 0;
    *crc = 0;
    if (!q->chunked) {
        *len = q->has_length ? q->length : 0;
        return read_body_bytes(r, *len, crc);
    }
    for (;;) {
        uint64_t size;

        if (!read_line(r, line, sizeof(line)))
            return false;
        size = strtoull(line, NULL, 16);
        if (size == 0)
            break;
        if (!read_body_bytes(r, size, crc) || !read_line(r, line, sizeof(line)))
            return false;
        *len += size;
    }
    do {                            /* trailers up to the empty line */
        if (!read_line(r, line, sizeof(line)))
            return false;
    } while (line[0] != '\0');
    return true;
}

static void
log_request(const struct request *q, uint64_t body_len)
{
    char line[3072];
    int fd, n;

    if (logfile == NULL)
        return;
    n = snprintf(line, sizeof(line), "%s %s %s host=%s body_len=%llu\n", name, q->method,
                 q->path, q->host, (unsigned long long)body_len);
    fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd == -1)
        return;
    if (n > 0)
        write_all(fd, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1));
    close(fd);
}

static void
echo_tunnel(struct reader *r)
{
    char buf[16384];

    if (r->pos < r->len && !write_all(r->fd, r->buf + r->pos, r->len - r->pos))
        return;
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof(buf));

        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0 || !write_all(r->fd, buf, (size_t)n))
            return;
    }
}

/* Serves one request; false when the connection must close. */
static bool
serve(struct reader *r, unsigned cid, unsigned nreq)
{
    struct request q;
    char desc[4096], head[1024];
    uint64_t body_len, big = 0, cut = UINT64_MAX;
    uint32_t crc;
    int status = 200, dlen, hlen;
    bool head_only, keep, chunked_out, close_out, no_body, extra = false;
    const char *p = NULL;

    if (idle_ms > 0 && r->pos == r->len) {
        struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

        if (poll(&pfd, 1, idle_ms) == 0)
            return false;           /* idle too long: close, as servers do */
    }
    if (!read_head(r, &q, nreq == 1))
        return false;
    if (q.expect_continue && strcmp(q.path, "/nocontinue") != 0 &&
        !write_all(r->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
        return false;
    if (!read_body(r, &q, &body_len, &crc))
        return false;
    crc = crc_final(crc, body_len);
    log_request(&q, body_len);
    if (strcmp(q.path, "/die") == 0)
        return false;
    keep = q.minor == 1 ? !q.close : q.keep_alive && !q.close;
    if (strncmp(q.path, "/status/", 8) == 0)
        status = atoi(q.path + 8);
    if (strncmp(q.path, "/sleep/", 7) == 0) {
        struct timespec ts = { .tv_sec = atoi(q.path + 7) / 1000,
                               .tv_nsec = (atoi(q.path + 7) % 1000) * 1000000L };

        nanosleep(&ts, NULL);
    }
    if (strcmp(q.path, "/bad") == 0) {
        write_all(r->fd, "this is not HTTP\r\n\r\n", 20);
        return false;
    }
    if (strcmp(q.path, "/upgrade") == 0 && q.upgrade[0] != '\0' && q.conn_upgrade) {
        hlen = snprintf(head, sizeof(head), "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: %s\r\nConnection: Upgrade\r\nX-Server: %s\r\n\r\n",
                        q.upgrade, name);
        if (!write_all(r->fd, head, (size_t)hlen))
            return false;
        echo_tunnel(r);
        return false;
    }
    if (strncmp(q.path, "/big/", 5) == 0)
        big = strtoull(q.path + 5, NULL, 10);
    if (strncmp(q.path, "/close/", 7) == 0)
        big = strtoull(q.path + 7, NULL, 10);
    if (strncmp(q.path, "/extra/", 7) == 0) {
        big = strtoull(q.path + 7, NULL, 10);
        extra = true;
    }
    if (strncmp(q.path, "/cut/", 5) == 0) {
        big = strtoull(q.path + 5, NULL, 10);
        cut = big / 2;
    }
    dlen = snprintf(desc, sizeof(desc),
                    "server=%s cid=%u nreq=%u\nmethod=%s path=%s host=%s version=1.%d\n"
                    "xff=%s xfp=%s\nbody_len=%llu body_cksum=%lu\n%s%s%s",
                    name, cid, nreq, q.method, q.path, q.host, q.minor, q.xff, q.xfp,
                    (unsigned long long)body_len, (unsigned long)crc,
                    proxy_line[0] ? "proxy=" : "", proxy_line, proxy_line[0] ? "\n" : "");
    head_only = strcmp(q.method, "HEAD") == 0;
    no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    chunked_out = strcmp(q.path, "/chunked") == 0 && q.minor == 1;
    close_out = strcmp(q.path, "/close") == 0 || strncmp(q.path, "/close/", 7) == 0;
    if (close_out)
        keep = false;
    hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d Whatever\r\nX-Server: %s\r\n", status,
                    name);
    if (no_body)
        ;
    else if (chunked_out)
        hlen += snprintf(head + hlen, sizeof(head) - (size_t)hlen,
                         "Transfer-Encoding: chunked\r\n");
    else if (!close_out)
        hlen += snprintf(head + hlen, sizeof(head) - (size_t)hlen,
                         "Content-Length: %llu\r\n", (unsigned long long)(dlen + big));
    hlen += snprintf(head + hlen, sizeof(head) - (size_t)hlen, "%s\r\n",
                     !keep ? "Connection: close\r\n" :
                     q.minor == 0 ? "Connection: keep-alive\r\n" : "");
    if (!write_all(r->fd, head, (size_t)hlen))
        return false;
    if (head_only || no_body)
        return keep;
    if (chunked_out) {
        /* The description in two chunks, with an extension and a trailer. */
        int half = dlen / 2;

        hlen = snprintf(head, sizeof(head), "%x;ext=1\r\n", half);
        if (!write_all(r->fd, head, (size_t)hlen) || !write_all(r->fd, desc, (size_t)half))
            return false;
        hlen = snprintf(head, sizeof(head), "\r\n%x\r\n", dlen - half);
        if (!write_all(r->fd, head, (size_t)hlen) ||
            !write_all(r->fd, desc + half, (size_t)(dlen - half)) ||
            !write_all(r->fd, "\r\n0\r\nX-Trailer: yes\r\n\r\n", 24))
            return false;
        return keep;
    }
    if (!write_all(r->fd, desc, (size_t)dlen))
        return false;
    p = "0123456789abcdefghijklmnopqrstuvwxyz\n";
    /* /extra's junk leaves in the same write as the body's last bytes: it is in the
     * proxy's socket by the time the response is complete, as from a server that
     * miscounted its Content-Length. */
    const char *junk = extra ? "junk\n" : "";
    size_t jlen = strlen(junk);

    do {
        char chunk[8192 + 8];
        size_t n = big < 8192 ? (size_t)big : 8192;

        if (cut == 0 && big > 0)
            return false;           /* /cut: the connection ends inside the body */
        if (n > cut)
            n = (size_t)cut;
        for (size_t i = 0; i < n; i++)
            chunk[i] = p[i % 37];
        big -= n;
        cut -= n;
        if (big == 0) {
            memcpy(chunk + n, junk, jlen);
            n += jlen;
        }
        if (n > 0 && !write_all(r->fd, chunk, n))
            return false;
    } while (big > 0);
    return keep;
}

int
main(int argc, char **argv)
{
    const char *addr = "::1";
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
    int opt, fd, one = 1, port = 0;
    unsigned cid = 0;
    pid_t parent = getpid();

    while ((opt = getopt(argc, argv, "n:p:a:t:L:i:")) != -1) {
        switch (opt) {
        case 'n': name = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'a': addr = optarg; break;
        case 't': lifetime = (unsigned)atoi(optarg); break;
        case 'L': logfile = optarg; break;
        case 'i': idle_ms = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: httpd -n NAME -p PORT [-a ADDR] [-t SECONDS] [-L LOG] "
                    "[-i IDLE_MS]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || inet_pton(AF_INET6, addr, &sa.sin6_addr) != 1)
        die("need -p PORT and an IPv6 -a ADDR");
    if (!IN6_IS_ADDR_LOOPBACK(&sa.sin6_addr))
        die("loopback addresses only");
    sa.sin6_port = htons((uint16_t)port);
    crc_init();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN);       /* children reaped by the kernel */
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 128) == -1)
        die("cannot listen on [%s]:%d: %s", addr, port, strerror(errno));
    alarm(lifetime);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        pid_t pid;

        if (c == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die("accept: %s", strerror(errno));
        }
        cid++;
        pid = fork();
        if (pid == 0) {
            struct reader *r = malloc(sizeof(*r));
            unsigned nreq = 0;

            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent || r == NULL)
                _exit(0);
            close(fd);
            alarm(lifetime);
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            r->fd = c;
            r->pos = r->len = 0;
            while (serve(r, cid, ++nreq))
                ;
            _exit(0);
        }
        close(c);
    }
}
