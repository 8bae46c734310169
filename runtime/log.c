#include "log.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define SINK_MAX 2
#define QUEUE_LEN 64                /* lines waiting per sink */

struct line {
    uint16_t len, off;              /* off: bytes already written (stderr may take part) */
    char text[LOG_LINE_MAX];
};

struct sink {
    int fd;
    bool syslog;
    uint8_t facility, level;
    struct sockaddr_un addr;        /* syslog: the path as configured */
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

int
log_open(const struct yt_table *t)
{
    tzset();                        /* local time for syslog stamps, before any chroot */
    for (uint32_t i = 0; i < t->log_count && sink_count < SINK_MAX; i++) {
        const struct yt_log *l = &t->logs[i];
        struct sink *s = &sinks[sink_count];

        *s = (struct sink){ .fd = -1, .facility = l->facility, .level = l->level };
        if (l->kind == YT_LOG_SYSLOG) {
            s->syslog = true;
            s->addr.sun_family = AF_UNIX;
            if (l->path.len >= sizeof(s->addr.sun_path)) {
                fprintf(stderr, "switchyard: syslog path too long\n");
                return -1;
            }
            memcpy(s->addr.sun_path, t->blob + l->path.off, l->path.len);
            if (connect_syslog(s) == -1)
                fprintf(stderr, "switchyard: warning: syslog %s: %s (will retry)\n",
                        s->addr.sun_path, strerror(errno));
        } else {
            s->fd = STDERR_FILENO;
        }
        sink_count++;
    }
    if (sink_count == 0) {
        sinks[0] = (struct sink){ .fd = STDERR_FILENO, .level = 7 };
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

        if (s->fd == -1) {
            ev_tstamp now = ev_time();

            if (now < s->next_connect || connect_syslog(s) == -1) {
                if (now >= s->next_connect)
                    s->next_connect = now + 1.0;
                dropped += s->count;
                s->count = 0;
                return true;
            }
        }
        if (!s->syslog) {
            n = write_stream(s);
            if (n > 0)
                continue;
            if (n == 0)
                return false;
        } else {
            /* Datagrams: one line each (RFC 3164 §4.1). */
            n = send(s->fd, l->text, l->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
                return false;
            /* A syslog daemon that went away: reconnect later, drop meanwhile. */
            if (s->syslog) {
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

void
log_time_iso(char *out)
{
    static time_t cached_sec = -1;
    static char cached[20];         /* "2025-01-31T12:34:56" of cached_sec */
    struct timespec ts;
    unsigned ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;

        gmtime_r(&ts.tv_sec, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    ms = (unsigned)(ts.tv_nsec / 1000000) % 1000u;
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX], line[LOG_LINE_MAX], iso[32];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    log_time_iso(iso);
    for (unsigned i = 0; i < sink_count; i++) {
        struct sink *s = &sinks[i];

        if ((unsigned)level > s->level)
            continue;
        if (s->syslog) {
            /* RFC 3164 §4.1: <PRI>Mmm dd hh:mm:ss TAG: MSG, local time, no newline. */
            char stamp[20];
            time_t now = time(NULL);
            struct tm tm;

            localtime_r(&now, &tm);
            strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
            n = snprintf(line, sizeof(line), "<%u>%s switchyard[%d]: %s %s",
                         s->facility * 8u + (unsigned)level, stamp, (int)getpid(), iso, msg);
        } else {
            n = snprintf(line, sizeof(line) - 1, "%s %s", iso, msg);
        }
        if (n < 0)
            continue;
        if ((size_t)n >= sizeof(line) - 1)
            n = sizeof(line) - 2;
        if (!s->syslog)
            line[n++] = '\n';
        enqueue(s, line, (size_t)n);
    }
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
        if (s->syslog && s->fd != -1)
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
