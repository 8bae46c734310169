#include "log.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "logfmt.h"
#include "sandbox.h"

#define SINK_MAX YT_LOGS_MAX
#define QUEUE_LEN 64                /* lines waiting per sink */

struct line {
    uint16_t len, off;              /* off: bytes already written (stderr may take part) */
    char text[LOG_LINE_MAX];
};

/* A message of LOG_WHOLE_MAX bytes fits a line behind the longest header. */
_Static_assert(LOG_WHOLE_MAX + LOGFMT_HEAD_MAX <= LOG_LINE_MAX, "LOG_WHOLE_MAX too large");

enum sink_kind { SINK_STDERR = 0, SINK_UNIX, SINK_UDP };

struct sink {
    int fd;
    uint8_t kind;                   /* enum sink_kind */
    uint8_t format;                 /* datagrams: enum yt_log_format */
    bool journal;                   /* stderr is journald's stream: "<N>" first */
    bool connected;                 /* udp: the socket has its destination */
    uint8_t facility, level;
    struct sockaddr_un addr;        /* syslog: the path as configured */
    union yt_addr dest;             /* udp: the collector */
    ev_tstamp next_connect;
    struct ev_io io;                /* EV_WRITE while the queue holds lines */
    uint32_t head, count;           /* queue[head .. head + count) mod QUEUE_LEN */
    struct line queue[QUEUE_LEN];
};

static struct sink sinks[SINK_MAX];
static unsigned sink_count;
static struct ev_loop *log_loop;
/* Lines logged while the loop runs are written together just before it next waits:
 * one writev per loop iteration instead of one write per line. */
static struct ev_prepare batch;
static uint64_t dropped;
static int stderr_flags = -1;
static char hostname[LOGFMT_FIELD_MAX + 1];    /* for RFC 5424, read before any chroot */

static void flush_cb(struct ev_loop *loop, struct ev_io *w, int revents);
static void batch_cb(struct ev_loop *loop, struct ev_prepare *w, int revents);

/* Connects to the syslog socket: at start by its path; inside a chroot (a reconnect after
 * the daemon restarted), the path as seen from there: the part under the chroot directory
 * when it lies there, else the same path inside the chroot (docs/runtime.md). */
static int
connect_syslog(struct sink *s)
{
    const char *inner = sandbox_path(s->addr.sun_path);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1)
        return -1;
    if (inner == NULL)
        inner = s->addr.sun_path;
    memcpy(sa.sun_path, inner, strlen(inner) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    s->fd = fd;
    return 0;
}

/* connect(2) of a UDP target's socket to its address. */
static int
connect_udp(struct sink *s)
{
    socklen_t len = s->dest.sa.sa_family == AF_INET ? sizeof(s->dest.in4) : sizeof(s->dest.in6);

    if (connect(s->fd, &s->dest.sa, len) == -1)
        return -1;
    s->connected = true;
    return 0;
}

/* A UDP socket for the target (RFC 5426), opened here once: the system call filter allows
 * no new one later. Not connected yet (no route to the collector at boot) is a warning:
 * the connect is tried again, at most once a second, and lines are dropped meanwhile. */
static int
open_udp(struct sink *s, const struct yt_log *l)
{
    s->dest = l->addr;
    s->fd = socket(l->addr.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd == -1) {
        fprintf(stderr, "switchyard: log udp: %s\n", strerror(errno));
        return -1;
    }
    if (connect_udp(s) == -1)
        fprintf(stderr, "switchyard: warning: log udp: %s (will retry)\n", strerror(errno));
    return 0;
}

static int
open_unix(struct sink *s, const struct yt_table *t, const struct yt_log *l)
{
    s->addr.sun_family = AF_UNIX;
    if (l->path.len >= sizeof(s->addr.sun_path)) {
        fprintf(stderr, "switchyard: syslog path too long\n");
        return -1;
    }
    memcpy(s->addr.sun_path, t->blob + l->path.off, l->path.len);
    if (connect_syslog(s) == -1)
        fprintf(stderr, "switchyard: warning: syslog %s: %s (will retry)\n",
                s->addr.sun_path, strerror(errno));
    return 0;
}

/* Whether standard error is journald's stream: JOURNAL_STREAM names its device and inode
 * (systemd.exec(5)); a copy inherited by a process whose stderr went elsewhere does not
 * match. */
static bool
stderr_is_journal(void)
{
    uint64_t dev, ino;
    struct stat st;

    return logfmt_journal_stream(getenv("JOURNAL_STREAM"), &dev, &ino) &&
           fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == dev &&
           (uint64_t)st.st_ino == ino;
}

int
log_open(const struct yt_table *t)
{
    bool journal = stderr_is_journal();

    tzset();                        /* local time for syslog stamps, before any chroot */
    if (gethostname(hostname, sizeof(hostname) - 1) == -1)
        hostname[0] = '\0';
    for (uint32_t i = 0; i < t->log_count && sink_count < SINK_MAX; i++) {
        const struct yt_log *l = &t->logs[i];
        struct sink *s = &sinks[sink_count];
        int rc = 0;

        *s = (struct sink){ .fd = -1, .facility = l->facility, .level = l->level,
                            .format = l->format };
        if (l->kind == YT_LOG_SYSLOG) {
            s->kind = SINK_UNIX;
            rc = open_unix(s, t, l);
        } else if (l->kind == YT_LOG_UDP) {
            s->kind = SINK_UDP;
            rc = open_udp(s, l);
        } else {
            s->fd = STDERR_FILENO;
            s->journal = journal;
        }
        if (rc == -1)
            return -1;
        sink_count++;
    }
    if (sink_count == 0) {
        sinks[0] = (struct sink){ .fd = STDERR_FILENO, .level = 7, .journal = journal };
        sink_count = 1;
    }
    for (unsigned i = 0; i < sink_count; i++) {
        if (sinks[i].fd == STDERR_FILENO && stderr_flags == -1) {
            stderr_flags = fcntl(STDERR_FILENO, F_GETFL);
            if (stderr_flags != -1)
                fcntl(STDERR_FILENO, F_SETFL, stderr_flags | O_NONBLOCK);
        }
    }
    return 0;
}

void
log_start(struct ev_loop *loop)
{
    log_loop = loop;
    ev_prepare_init(&batch, batch_cb);
    ev_prepare_start(loop, &batch);
    ev_unref(loop);                 /* logging alone does not keep the loop running */
    for (unsigned i = 0; i < sink_count; i++) {
        ev_io_init(&sinks[i].io, flush_cb, sinks[i].fd, EV_WRITE);
        sinks[i].io.data = &sinks[i];
        if (sinks[i].count > 0 && sinks[i].fd != -1)
            ev_io_start(loop, &sinks[i].io);
    }
}

/* A syslog socket again (the daemon restarted), or a UDP socket's first connect. */
static int
reconnect(struct sink *s)
{
    if (s->kind == SINK_UNIX)
        return connect_syslog(s);
    return s->kind == SINK_UDP && s->fd != -1 ? connect_udp(s) : -1;
}

/* Writes queued stream lines with one writev; returns bytes written or -1 (errno). */
static ssize_t
write_stream(struct sink *s)
{
    struct iovec iov[QUEUE_LEN];
    ssize_t n;

    for (uint32_t i = 0; i < s->count; i++) {
        struct line *l = &s->queue[(s->head + i) % QUEUE_LEN];

        iov[i] = (struct iovec){ .iov_base = l->text + l->off, .iov_len = l->len - l->off };
    }
    n = writev(s->fd, iov, (int)s->count);
    if (n > 0) {
        size_t left = (size_t)n;

        while (s->count > 0 && left > 0) {
            struct line *l = &s->queue[s->head];
            size_t rest = (size_t)(l->len - l->off);

            if (left < rest) {
                l->off += (uint16_t)left;
                break;
            }
            left -= rest;
            s->head = (s->head + 1) % QUEUE_LEN;
            s->count--;
        }
    }
    return n;
}

/* Writes what it can of the queue; returns false when the sink cannot take more now. */
static bool
flush(struct sink *s)
{
    while (s->count > 0) {
        struct line *l = &s->queue[s->head];
        ssize_t n;

        if (s->fd == -1 || (s->kind == SINK_UDP && !s->connected)) {
            ev_tstamp now = ev_time();

            if (now < s->next_connect || reconnect(s) == -1) {
                if (now >= s->next_connect)
                    s->next_connect = now + 1.0;
                dropped += s->count;
                s->count = 0;
                return true;
            }
        }
        if (s->kind == SINK_STDERR) {
            n = write_stream(s);
            if (n > 0)
                continue;
            if (n == 0)
                return false;
        } else {
            /* Datagrams: one line each (RFC 3164 §4.1, RFC 5426 §3.1). */
            n = send(s->fd, l->text, l->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        if (n == -1) {
            if (errno == EINTR)
                continue;
            /* A full UDP send buffer drops the line: UDP has no back-pressure to wait
             * for (RFC 5426 §3.6); the unix socket's reader is local and catches up. */
            if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) &&
                s->kind != SINK_UDP)
                return false;
            /* A syslog daemon that went away: reconnect later, drop meanwhile. A UDP
             * socket stays: its errors (ECONNREFUSED from an ICMP answer) pass. */
            if (s->kind == SINK_UNIX) {
                close(s->fd);
                s->fd = -1;
                s->next_connect = ev_time() + 1.0;
            }
            dropped++;
        }
        s->head = (s->head + 1) % QUEUE_LEN;
        s->count--;
    }
    return true;
}

static void
arm(struct sink *s)
{
    if (log_loop == NULL)
        return;
    if (s->count > 0 && s->fd != -1 && !ev_is_active(&s->io)) {
        ev_io_set(&s->io, s->fd, EV_WRITE);
        ev_io_start(log_loop, &s->io);
    } else if ((s->count == 0 || s->fd == -1) && ev_is_active(&s->io)) {
        ev_io_stop(log_loop, &s->io);
    }
}

static void
flush_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct sink *s = w->data;

    (void)loop;
    (void)revents;
    flush(s);
    arm(s);
}

static void
batch_cb(struct ev_loop *loop, struct ev_prepare *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    for (unsigned i = 0; i < sink_count; i++) {
        struct sink *s = &sinks[i];

        if (s->count > 0 && !ev_is_active(&s->io)) {
            flush(s);
            arm(s);
        }
    }
}

static void
enqueue(struct sink *s, const char *text, size_t len)
{
    struct line *l;

    /* Outside the loop, or with a full queue, write now; else batch_cb writes. */
    if (s->count == QUEUE_LEN && !ev_is_active(&s->io))
        flush(s);
    if (s->count == QUEUE_LEN) {
        dropped++;
        return;
    }
    l = &s->queue[(s->head + s->count) % QUEUE_LEN];
    memcpy(l->text, text, len);
    l->len = (uint16_t)len;
    l->off = 0;
    s->count++;
    if (log_loop == NULL) {
        flush(s);
        arm(s);
    }
}

/* "2025-01-31T12:34:56.789Z" of ts, NUL-terminated: 24 bytes and the NUL. */
static void
iso_of(char *out, const struct timespec *ts)
{
    static time_t cached_sec = -1;
    static char cached[20];         /* "2025-01-31T12:34:56" of cached_sec */
    unsigned ms;

    if (ts->tv_sec != cached_sec) {
        struct tm tm;

        gmtime_r(&ts->tv_sec, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts->tv_sec;
    }
    ms = (unsigned)(ts->tv_nsec / 1000000) % 1000u;
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

void
log_time_iso(char *out)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    iso_of(out, &ts);
}

/* RFC 3164 §4.1.2: "Mmm dd hh:mm:ss" in local time, formatted once a second. */
static const char *
stamp_3164(time_t now)
{
    static time_t cached = -1;
    static char text[16];

    if (now != cached) {
        struct tm tm;

        localtime_r(&now, &tm);
        strftime(text, sizeof(text), "%b %e %H:%M:%S", &tm);
        cached = now;
    }
    return text;
}

/* A line being built: cut at the end of text, which has room to see that it was. */
struct out {
    size_t len;
    char text[LOG_LINE_MAX + 64];
};

static void
put(struct out *o, const char *src, size_t len)
{
    if (len > sizeof(o->text) - o->len)
        len = sizeof(o->text) - o->len;
    memcpy(o->text + o->len, src, len);
    o->len += len;
}

/* The header of a datagram of s at level: RFC 5424 §6, or RFC 3164 §4.1
 * "<PRI>Mmm dd hh:mm:ss switchyard[pid]: ". */
static void
put_syslog_head(struct out *o, const struct sink *s, enum log_level level, const char *msgid,
                const struct timespec *ts)
{
    unsigned pri = s->facility * 8u + (unsigned)level;
    int pid = (int)getpid();

    if (s->format == YT_LOG_RFC5424) {
        struct logfmt_head h = { .pri = pri, .sec = ts->tv_sec, .usec = ts->tv_nsec / 1000,
                                 .host = hostname, .app = "switchyard", .pid = pid,
                                 .msgid = msgid };

        o->len = logfmt_rfc5424_head(o->text, &h);
        return;
    }
    o->len = 0;
    put(o, "<", 1);
    o->len += logfmt_u64(o->text + o->len, pri);
    put(o, ">", 1);
    put(o, stamp_3164(ts->tv_sec), 15);
    put(o, " switchyard[", 12);
    o->len += logfmt_u64(o->text + o->len, (uint64_t)pid);
    put(o, "]: ", 3);
}

/* Hands text[0 .. len) at level to every sink that takes that level, each with its own
 * header; stamped: the ISO time first, unless the header has the time already. */
static void
emit(enum log_level level, const char *msgid, const char *text, size_t len, bool stamped)
{
    char iso[32];
    struct timespec ts;
    struct out o;

    clock_gettime(CLOCK_REALTIME, &ts);
    iso_of(iso, &ts);
    for (unsigned i = 0; i < sink_count; i++) {
        struct sink *s = &sinks[i];
        bool dgram = s->kind != SINK_STDERR;

        if ((unsigned)level > s->level)
            continue;
        o.len = 0;
        if (dgram) {
            put_syslog_head(&o, s, level, msgid, &ts);
        } else if (s->journal) {
            /* sd-daemon(3): journald takes "<N>" as the line's priority. */
            char prio[3] = { '<', (char)('0' + level), '>' };

            put(&o, prio, 3);
        }
        if (stamped && !(dgram && s->format == YT_LOG_RFC5424)) {
            put(&o, iso, 24);
            put(&o, " ", 1);
        }
        put(&o, text, len);
        if (dgram) {
            o.len = logfmt_cut(o.text, o.len, LOG_LINE_MAX);
        } else {
            if (o.len > LOG_LINE_MAX - 1)
                o.len = LOG_LINE_MAX - 1;
            o.text[o.len++] = '\n';
        }
        enqueue(s, o.text, o.len);
    }
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    emit(level, NULL, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, true);
}

void
log_access(const char *text, size_t len, bool json)
{
    emit(LOG_LEVEL_INFO, "access", text, len, !json);
}

void
log_close(void)
{
    for (unsigned i = 0; i < sink_count; i++) {
        struct sink *s = &sinks[i];

        if (log_loop != NULL && ev_is_active(&s->io))
            ev_io_stop(log_loop, &s->io);
        flush(s);
        /* A short, bounded wait for lines still queued. */
        for (int tries = 0; tries < 10 && s->count > 0 && s->fd != -1; tries++) {
            struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };

            if (poll(&pfd, 1, 20) == -1 && errno != EINTR)
                break;
            flush(s);
        }
        if (s->kind != SINK_STDERR && s->fd != -1)
            close(s->fd);
        s->fd = -1;
    }
    if (log_loop != NULL && ev_is_active(&batch)) {
        ev_ref(log_loop);
        ev_prepare_stop(log_loop, &batch);
    }
    if (stderr_flags != -1)
        fcntl(STDERR_FILENO, F_SETFL, stderr_flags);
    stderr_flags = -1;
    sink_count = 0;
    log_loop = NULL;
}

uint64_t
log_dropped(void)
{
    return dropped;
}

char *
log_escape(char *out, const void *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = in;
    size_t n = len > LOG_PEER_MAX ? LOG_PEER_MAX : len;
    char *o = out;

    for (size_t i = 0; i < n; i++) {
        if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"') {
            *o++ = (char)p[i];
        } else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[p[i] >> 4];
            *o++ = hex[p[i] & 15];
        }
    }
    if (len > n) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}
