#include "admin.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "sandbox.h"
#include "stats.h"

#define LINE_MAX_LEN 1024           /* a longer command line closes the session */
#define OUT_CHUNK 16384             /* show stat refills its output in chunks of this */
#define FDS_PER_MSG 200             /* below the kernel's SCM_MAX_FD (253) */

/* What a session may do: the socket's `level` for any peer, everything (the hand-over
 * included) for root and the proxy's own user. */
enum level { LEVEL_OPERATOR = 0, LEVEL_ADMIN, LEVEL_TAKEOVER };

struct session {
    struct ev_io io;
    struct ev_timer timer;          /* idle: admin_timeout_ms */
    struct session *prev, *next;
    char in[LINE_MAX_LEN];
    size_t in_len;
    char *out;                      /* owned */
    size_t out_len, out_off, out_cap;
    uint32_t dump_pos;              /* show stat: next row; 0 when no dump runs */
    struct metrics_cursor metrics;  /* show metrics: where it goes on */
    bool metrics_on;                /* show metrics under way */
    /* _getsocks: hand_total descriptors go after out[hand_at], hand_sent of them gone */
    size_t hand_at, hand_sent, hand_total;
    enum level level;
    uid_t uid;                      /* the peer's (SO_PEERCRED) */
    bool interactive, closing;
    bool out_failed;                /* no memory for the output: a dump stops there */
};

static const struct yt_table *table;
static const struct admin_info *info;
static struct ev_loop *aloop;
static struct ev_io listen_io;
static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static dev_t sock_dev;
static ino_t sock_ino;
static struct session *sessions;
static unsigned session_count;
static ev_tstamp started;
static uid_t owner;                 /* the user that created the socket */

/* ---- the socket ---- */

int
admin_open(const struct yt_table *t)
{
    const struct yt_str *p = &t->global.admin_socket;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *path = sock_path;
    struct stat st;
    int n;

    table = t;
    started = ev_time();
    owner = geteuid();
    if (p->len == 0)
        return 0;
    if (p->len >= sizeof(sock_path)) {
        fprintf(stderr, "switchyard: admin socket path too long\n");
        return -1;
    }
    memcpy(path, t->blob + p->off, p->len);
    path[p->len] = '\0';
    /* Bind under a temporary name, then rename: the path never points to nothing, and a
     * new binary taking over replaces the old one's socket in one step. */
    if (sandbox_make_dir(t, path) == -1)
        return -1;
    n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d.tmp", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(sa.sun_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd == -1 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        listen(listen_fd, 16) == -1 || chmod(sa.sun_path, t->global.admin_mode) == -1 ||
        (strcmp(sa.sun_path, path) != 0 && rename(sa.sun_path, path) == -1) ||
        stat(path, &st) == -1) {
        fprintf(stderr, "switchyard: admin socket %s: %s\n", path, strerror(errno));
        unlink(sa.sun_path);
        return -1;
    }
    sock_dev = st.st_dev;
    sock_ino = st.st_ino;
    return 0;
}

/* ---- output ---- */

static void
out_add(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_add(struct session *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = s->out_cap - s->out_len;

        va_start(ap, fmt);
        n = vsnprintf(s->out + s->out_len, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            s->out_len += (size_t)n;
            return;
        }
        size_t cap = s->out_cap * 2 > s->out_len + (size_t)n + 1 ? s->out_cap * 2
                                                                 : s->out_len + (size_t)n + 1;
        char *o = realloc(s->out, cap);

        if (o == NULL) {
            s->closing = s->out_failed = true;
            return;
        }
        s->out = o;
        s->out_cap = cap;
    }
}

static const char *
name_of(struct yt_str n)
{
    static char buf[4 * YT_NAME_MAX];
    size_t len = n.len < sizeof(buf) - 1 ? n.len : sizeof(buf) - 1;

    memcpy(buf, table->blob + n.off, len);
    buf[len] = '\0';
    return buf;
}

static void
row(struct session *s, const char *type, const char *name, const char *status,
    const struct stats_counters *c)
{
    out_add(s, "%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
            type, name, status, c->conns, c->bytes_in, c->bytes_out, c->errors, c->down);
}

/* show stat, resumable: rows 1 .. listener_count are listeners, then each pool followed by
 * its servers. Adds rows until about OUT_CHUNK bytes wait; dump_pos 0 when done. */
static void
dump_stat(struct session *s)
{
    uint64_t now = (uint64_t)(ev_now(aloop) * 1000.0);
    uint32_t pos = s->dump_pos - 1;
    struct stats_counters c;

    /* A one-shot session is already closing (after its line): only a failure stops. */
    while (s->out_len - s->out_off < OUT_CHUNK && !s->out_failed) {
        if (pos < table->listener_count) {
            stats_listener(pos, &c);
            row(s, "listener", name_of(table->listeners[pos].name),
                listener_is_accepting() ? "OPEN" : "STOP", &c);
            pos++;
            continue;
        }
        /* Positions past the listeners: pool p's row, then its servers'. A pool and its
         * servers are printed in one go (pools are small). */
        uint32_t p = pos - table->listener_count;
        char sname[4 * YT_NAME_MAX + 64];
        bool up = false;

        if (p >= table->pool_count) {
            pos = UINT32_MAX;
            break;
        }
        static const char *const server_status[STATS_SERVER_STATE_COUNT] = {
            [STATS_SERVER_UP] = "UP", [STATS_SERVER_DOWN] = "DOWN",
            [STATS_SERVER_MAINT] = "MAINT",
        };
        const struct yt_pool *pl = &table->pools[p];
        uint64_t down = 0;

        for (uint32_t i = pl->first; i < pl->first + pl->count; i++) {
            up = up || stats_server_state(i, now) == STATS_SERVER_UP;
            stats_server(i, &c);
            down += c.down;
        }
        stats_pool(p, &c);
        c.down = down;
        row(s, "pool", name_of(pl->name), up ? "UP" : "DOWN", &c);
        for (uint32_t i = pl->first; i < pl->first + pl->count; i++) {
            stats_server_name(i, sname, sizeof(sname));
            stats_server(i, &c);
            row(s, "server", sname, server_status[stats_server_state(i, now)], &c);
        }
        pos++;
    }
    s->dump_pos = pos == UINT32_MAX || s->out_failed ? 0 : pos + 1;
}

/* show metrics, resumable as show stat: adds lines until about OUT_CHUNK bytes wait. */
static void
dump_metrics(struct session *s)
{
    struct metrics_process p = metrics_process_now((uint64_t)(ev_now(aloop) * 1000.0),
                                                   listener_maxconn());

    while (s->out_len - s->out_off < OUT_CHUNK && !s->out_failed &&
           !metrics_is_done(&s->metrics)) {
        if (s->out_cap - s->out_len < METRICS_LINE_MAX) {
            char *o = realloc(s->out, s->out_cap + OUT_CHUNK + METRICS_LINE_MAX);

            if (o == NULL) {
                s->closing = s->out_failed = true;
                break;
            }
            s->out = o;
            s->out_cap += OUT_CHUNK + METRICS_LINE_MAX;
        }
        s->out_len += metrics_render(table, &p, &s->metrics, s->out + s->out_len,
                                     s->out_cap - s->out_len);
    }
    s->metrics_on = !metrics_is_done(&s->metrics) && !s->out_failed;
}

/* Whether a dump (show stat, show metrics) is under way: the next command waits. */
static bool
dumping(const struct session *s)
{
    return s->dump_pos != 0 || s->metrics_on;
}

/* ---- commands ---- */

static void
show_info(struct session *s)
{
    out_add(s,
            "Name: switchyard\nVersion: %s\nConfig-Digest: sha256:%s\nPid: %d\n"
            "Uptime_sec: %.0f\nWorkers: %u\nMaxconn: %u\nCurrConns: %" PRIu64 "\n"
            "CumConns: %" PRIu64 "\nListeners: %u\nSites: %u\nPools: %u\nServers: %u\n"
            "Accepting: %d\n",
            info->version, table->digest, (int)getpid(), ev_now(aloop) - started,
            info->workers, listener_maxconn(), stats_live(), stats_accepted(),
            table->listener_count, table->site_count, table->pool_count, table->server_count,
            listener_is_accepting() ? 1 : 0);
}

static void help(struct session *s);

static void
quit(struct session *s)
{
    s->closing = true;
}

static void
prompt(struct session *s)
{
    s->interactive = !s->interactive;
}

static void
show_stat(struct session *s)
{
    out_add(s, "# type,name,status,conns,bytes_in,bytes_out,errors,down\n");
    s->dump_pos = 1;
    dump_stat(s);
}

static void
show_metrics(struct session *s)
{
    s->metrics = (struct metrics_cursor){ 0 };
    s->metrics_on = true;
    dump_metrics(s);
}

/* Stops accepting and lets the open connections finish, as SIGTERM does ("shutdown"),
 * or for the new binary that has taken the listening sockets over ("_drain"). */
static void
drain(struct session *s)
{
    log_msg(LOG_LEVEL_NOTICE, "admin: drain requested (uid %u)", (unsigned)s->uid);
    out_add(s, "OK\n");
    s->closing = true;
    if (info->drain != NULL)
        info->drain(aloop);
}

/* Answers "OK <n>\n", then the listening sockets go over after those bytes, FDS_PER_MSG
 * per message with one byte of data each, as the peer reads them (see send_fds). */
static void
getsocks(struct session *s)
{
    int fds[ADMIN_FDS_MAX];
    size_t n = info->sockets != NULL ? info->sockets(fds, ADMIN_FDS_MAX) : 0;

    if (s->hand_total > 0) {        /* a second one on the same line */
        out_add(s, "Busy: the sockets are on their way\n");
        return;
    }
    out_add(s, "OK %zu\n", n);
    s->hand_at = s->out_len;
    s->hand_sent = 0;
    s->hand_total = n;
}

/* ---- servers: state, checks, maintenance ---- */

/* show servers: one line per server, all workers' view (see docs/runtime.md). */
static void
show_servers(struct session *s)
{
    uint64_t now = (uint64_t)(ev_now(aloop) * 1000.0);
    char name[4 * YT_NAME_MAX + 64];

    out_add(s, "# server,state,check,latency_ms,passes,fails\n");
    for (uint32_t i = 0; i < table->server_count && !s->closing; i++) {
        struct stats_check ck;
        char lat[32] = "-";
        char res[32] = "-";

        if (stats_server_check(i, &ck)) {
            snprintf(lat, sizeof(lat), "%u.%03u", ck.latency_us / 1000, ck.latency_us % 1000);
            if (ck.result == STATS_CHECK_L7STS || ck.result == STATS_CHECK_L7OK)
                snprintf(res, sizeof(res), "%s %u", stats_check_result_names[ck.result],
                         ck.status);
            else
                snprintf(res, sizeof(res), "%s", stats_check_result_names[ck.result]);
        }
        out_add(s, "%s,%s,%s,%s,%u,%u\n", stats_server_name(i, name, sizeof(name)),
                stats_server_state_names[stats_server_state(i, now)], res, lat, ck.passes,
                ck.fails);
    }
}

/* The server that show stat names arg ("POOL/[addr]:port"), or YT_NONE. */
static uint32_t
server_named(const char *arg)
{
    char name[4 * YT_NAME_MAX + 64];

    for (uint32_t i = 0; i < table->server_count; i++)
        if (strcmp(stats_server_name(i, name, sizeof(name)), arg) == 0)
            return i;
    return YT_NONE;
}

static void
set_maint(struct session *s, const char *arg, bool maint)
{
    uint32_t i = server_named(arg);

    if (i == YT_NONE) {
        out_add(s, "No such server: '%.128s' (names as in 'show stat': POOL/[addr]:port)\n",
                arg);
        return;
    }
    stats_server_set_maint(i, maint);
    log_msg(LOG_LEVEL_NOTICE, "admin: server %s %s (uid %u)", arg,
            maint ? "disabled: maintenance" : "enabled", (unsigned)s->uid);
    out_add(s, "OK\n");
}

static void
disable_server(struct session *s, const char *arg)
{
    set_maint(s, arg, true);
}

static void
enable_server(struct session *s, const char *arg)
{
    set_maint(s, arg, false);
}

static const struct command {
    const char *name;
    enum level level;
    void (*run)(struct session *s);
    const char *help;               /* NULL: not listed */
} commands[] = {
    { "help", LEVEL_OPERATOR, help, "this message" },
    { "prompt", LEVEL_OPERATOR, prompt, "toggle interactive mode with prompt" },
    { "quit", LEVEL_OPERATOR, quit, "disconnect" },
    { "show info", LEVEL_OPERATOR, show_info, "report information about the running process" },
    { "show stat", LEVEL_OPERATOR, show_stat,
      "report counters for each listener, pool and server (CSV)" },
    { "show metrics", LEVEL_OPERATOR, show_metrics,
      "report the counters in the Prometheus text format" },
    { "shutdown", LEVEL_ADMIN, drain,
      "stop accepting, finish open connections, exit (as SIGTERM)" },
    { "show servers", LEVEL_OPERATOR, show_servers,
      "one line per server: state, last check, latency, passes, failures" },
    { "_getsocks", LEVEL_TAKEOVER, getsocks, NULL },
    { "_drain", LEVEL_TAKEOVER, drain, NULL },
};

/* Commands that take an argument: "NAME ARG". */
static const struct arg_command {
    const char *name;
    enum level level;
    void (*run)(struct session *s, const char *arg);
    const char *help;
} arg_commands[] = {
    { "disable server", LEVEL_ADMIN, disable_server,
      "POOL/SERVER: no new connection or request to it (maintenance)" },
    { "enable server", LEVEL_ADMIN, enable_server, "POOL/SERVER: back from maintenance" },
};

static void
help(struct session *s)
{
    out_add(s, "The following commands are valid at this level:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (commands[i].help != NULL && commands[i].level <= s->level)
            out_add(s, "  %-14s : %s\n", commands[i].name, commands[i].help);
    for (size_t i = 0; i < sizeof(arg_commands) / sizeof(arg_commands[0]); i++)
        if (arg_commands[i].level <= s->level)
            out_add(s, "  %-14s : %s\n", arg_commands[i].name, arg_commands[i].help);
}

/* Runs cmd if it is one of arg_commands (the name, spaces, the argument): true when it
 * was, answered or refused. */
static bool
command_with_arg(struct session *s, const char *cmd)
{
    for (size_t i = 0; i < sizeof(arg_commands) / sizeof(arg_commands[0]); i++) {
        const struct arg_command *c = &arg_commands[i];
        size_t n = strlen(c->name);
        const char *arg = cmd + n;

        if (strncmp(cmd, c->name, n) != 0 || (*arg != ' ' && *arg != '\t' && *arg != '\0'))
            continue;
        while (*arg == ' ' || *arg == '\t')
            arg++;
        if (c->level > s->level) {
            log_msg(LOG_LEVEL_WARNING, "admin: '%s' refused to uid %u", c->name,
                    (unsigned)s->uid);
            out_add(s, "Permission denied\n");
        } else if (*arg == '\0') {
            out_add(s, "Usage: %s %s\n", c->name, c->help);
        } else {
            c->run(s, arg);
        }
        return true;
    }
    return false;
}

static void
command(struct session *s, char *cmd)
{
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    for (size_t n = strlen(cmd); n > 0 && (cmd[n - 1] == ' ' || cmd[n - 1] == '\t');)
        cmd[--n] = '\0';
    if (*cmd == '\0')
        return;
    if (command_with_arg(s, cmd))
        return;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        if (commands[i].level <= s->level) {
            commands[i].run(s);
            return;
        }
        log_msg(LOG_LEVEL_WARNING, "admin: '%s' refused to uid %u", cmd, (unsigned)s->uid);
        out_add(s, "Permission denied\n");
        return;
    }
    /* Echoed back to whoever sent it: control bytes would reach their terminal. */
    for (char *p = cmd; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    out_add(s, "Unknown command: '%.64s'. Try 'help'.\n", cmd);
}

/* ---- sessions ---- */

static void
session_free(struct session *s)
{
    ev_io_stop(aloop, &s->io);
    ev_timer_stop(aloop, &s->timer);
    close(s->io.fd);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    session_count--;
    free(s->out);
    free(s);
}

/* Runs the complete lines received, one at a time, only while no output waits (a dump
 * in progress or a slow reader holds the next command back). Non-interactive sessions
 * run one line (commands separated by ';') and close, as HAProxy's stats socket does. */
static void
run_lines(struct session *s)
{
    char *nl;

    while (!s->closing && !dumping(s) && s->out_off == s->out_len && s->hand_total == 0 &&
           (nl = memchr(s->in, '\n', s->in_len)) != NULL) {
        size_t len = (size_t)(nl - s->in);
        char line[LINE_MAX_LEN], *save = NULL;

        memcpy(line, s->in, len);
        line[len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[len - 1] = '\0';
        memmove(s->in, nl + 1, s->in_len - len - 1);
        s->in_len -= len + 1;
        s->out_len = s->out_off = 0;
        for (char *c = strtok_r(line, ";", &save); c != NULL && !s->closing;
             c = strtok_r(NULL, ";", &save))
            command(s, c);
        if (!s->interactive)
            s->closing = true;
        else if (!dumping(s) && !s->closing)
            out_add(s, "\n> ");
    }
}

/* Sends the descriptors of a _getsocks, as many messages as the socket takes now. The
 * listening sockets are asked for again each time: once they are closed (a drain), the
 * hand-over is over. 1: all sent; 0: the peer must read first; -1: failed. */
static int
send_fds(struct session *s)
{
    int fds[ADMIN_FDS_MAX];

    if (info->sockets(fds, ADMIN_FDS_MAX) != s->hand_total)
        return -1;
    while (s->hand_sent < s->hand_total) {
        size_t k = s->hand_total - s->hand_sent;
        union {
            char buf[CMSG_SPACE(sizeof(int) * FDS_PER_MSG)];
            struct cmsghdr align;
        } ctl;
        char byte = 'F';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf };
        struct cmsghdr *cm;

        k = k < FDS_PER_MSG ? k : FDS_PER_MSG;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * k);
        cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * k);
        memcpy(CMSG_DATA(cm), fds + s->hand_sent, sizeof(int) * k);
        if (sendmsg(s->io.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        s->hand_sent += k;
        ev_timer_again(aloop, &s->timer);
    }
    log_msg(LOG_LEVEL_NOTICE, "admin: handed %zu listening sockets over", s->hand_total);
    s->hand_total = 0;
    return 1;
}

/* Sends what waits, in order: output up to the hand-over's place, its descriptors, the
 * rest. Never blocks. 1: all sent; 0: the peer must read first; -1: failed. */
static int
flush(struct session *s)
{
    for (;;) {
        size_t end = s->hand_total > 0 ? s->hand_at : s->out_len;

        while (s->out_off < end) {
            ssize_t n = send(s->io.fd, s->out + s->out_off, end - s->out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);

            if (n == -1) {
                if (errno == EINTR)
                    continue;
                return errno == EAGAIN ? 0 : -1;
            }
            s->out_off += (size_t)n;
            ev_timer_again(aloop, &s->timer);
        }
        if (s->hand_total == 0)
            return 1;
        int r = send_fds(s);

        if (r != 1)
            return r;
    }
}

static void
session_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct session *s = w->data;
    int want, r;

    if (revents & EV_READ) {
        ssize_t n = recv(w->fd, s->in + s->in_len, sizeof(s->in) - s->in_len, 0);

        if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
            session_free(s);
            return;
        }
        if (n > 0) {
            s->in_len += (size_t)n;
            ev_timer_again(loop, &s->timer);
            if (s->in_len == sizeof(s->in) && memchr(s->in, '\n', s->in_len) == NULL) {
                session_free(s);
                return;
            }
        }
    }
    for (;;) {
        run_lines(s);
        r = flush(s);
        if (r == -1) {
            session_free(s);
            return;
        }
        if (r == 0)
            break;
        s->out_off = s->out_len = 0;
        if (dumping(s)) {
            if (s->dump_pos != 0)
                dump_stat(s);
            else
                dump_metrics(s);
            if (!dumping(s) && s->interactive)
                out_add(s, "\n> ");
            continue;
        }
        if (s->closing) {
            session_free(s);
            return;
        }
        if (memchr(s->in, '\n', s->in_len) == NULL)
            break;
    }
    want = r == 0 ? EV_WRITE : EV_READ;
    if (want != (w->events & (EV_READ | EV_WRITE))) {
        ev_io_stop(loop, w);
        ev_io_set(w, w->fd, want);
        ev_io_start(loop, w);
    }
}

static void
session_timeout_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    session_free(w->data);
}

/* The peer's level: root and the proxy's own user may do everything, the hand-over
 * included; anyone else whom the socket's mode lets in gets the socket's level. */
static enum level
peer_level(int fd, uid_t *uid)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
        *uid = (uid_t)-1;
        return LEVEL_OPERATOR;
    }
    *uid = cr.uid;
    if (cr.uid == 0 || cr.uid == owner || cr.uid == geteuid())
        return LEVEL_TAKEOVER;
    return table->global.admin_level == YT_ADMIN_ADMIN ? LEVEL_ADMIN : LEVEL_OPERATOR;
}

/* Whether a session for a peer at level may open: the last place is kept for the
 * hand-over, so that idle sessions of other users cannot make a takeover fail; when every
 * place is taken, a peer allowed the hand-over closes the oldest session. */
static bool
session_room(enum level level)
{
    struct session *oldest = sessions;

    if (session_count < ADMIN_SESSIONS_MAX - 1 ||
        (session_count < ADMIN_SESSIONS_MAX && level == LEVEL_TAKEOVER))
        return true;
    if (level != LEVEL_TAKEOVER || oldest == NULL)
        return false;
    while (oldest->next != NULL)
        oldest = oldest->next;
    log_msg(LOG_LEVEL_NOTICE, "admin: %u sessions open: closing the oldest (uid %u)",
            session_count, (unsigned)oldest->uid);
    session_free(oldest);
    return true;
}

static void
accept_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    (void)revents;
    for (int i = 0; i < ADMIN_SESSIONS_MAX; i++) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct session *s;
        enum level level;
        uid_t uid;

        if (fd == -1)
            return;
        level = peer_level(fd, &uid);
        if (!session_room(level) || (s = calloc(1, sizeof(*s))) == NULL) {
            close(fd);
            continue;
        }
        s->level = level;
        s->uid = uid;
        s->out_cap = 4096;
        s->out = malloc(s->out_cap);
        if (s->out == NULL) {
            free(s);
            close(fd);
            continue;
        }
        ev_io_init(&s->io, session_cb, fd, EV_READ);
        s->io.data = s;
        ev_init(&s->timer, session_timeout_cb);
        s->timer.repeat = table->global.admin_timeout_ms / 1000.0;
        s->timer.data = s;
        s->next = sessions;
        if (sessions != NULL)
            sessions->prev = s;
        sessions = s;
        session_count++;
        ev_io_start(loop, &s->io);
        if (s->timer.repeat > 0)
            ev_timer_again(loop, &s->timer);
    }
}

void
admin_start(struct ev_loop *loop, const struct admin_info *ai)
{
    aloop = loop;
    info = ai;
    if (listen_fd == -1)
        return;
    ev_io_init(&listen_io, accept_cb, listen_fd, EV_READ);
    ev_io_start(loop, &listen_io);
    ev_unref(loop);                 /* the admin socket alone does not keep the loop running */
}

void
admin_close(bool remove)
{
    struct stat st;

    while (sessions != NULL)
        session_free(sessions);
    if (listen_fd == -1)
        return;
    if (aloop != NULL && ev_is_active(&listen_io)) {
        ev_ref(aloop);
        ev_io_stop(aloop, &listen_io);
    }
    close(listen_fd);
    listen_fd = -1;
    /* Remove the path only if it is still our socket: after a takeover it is the new
     * binary's. After chroot, only a path inside the jail can be reached: no descriptor
     * of a directory outside it is kept open. */
    const char *path = remove ? sandbox_path(sock_path) : NULL;

    if (path != NULL && lstat(path, &st) == 0 && st.st_dev == sock_dev &&
        st.st_ino == sock_ino && unlink(path) == -1)
        log_msg(LOG_LEVEL_WARNING, "admin: cannot remove %s: %s", sock_path, strerror(errno));
}

/* ---- takeover, the new binary's side ---- */

/* Reads until a whole line is in buf (at most cap - 1 bytes), collecting any descriptors
 * that arrive into fds. Returns the line length, or -1. */
static ssize_t
read_line(int fd, char *buf, size_t cap, int *fds, size_t fd_cap, size_t *fd_count,
          int timeout_ms)
{
    size_t len = 0;

    while (len < cap - 1) {
        union {
            char buf[CMSG_SPACE(sizeof(int) * FDS_PER_MSG)];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = { .iov_base = buf + len, .iov_len = 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf) };
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, timeout_ms) != 1) {
            errno = ETIMEDOUT;
            return -1;
        }
        n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            if (n == 0)
                errno = ECONNRESET;
            return -1;
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int got[FDS_PER_MSG];

            memcpy(got, CMSG_DATA(cm), k * sizeof(int));
            for (size_t i = 0; i < k; i++) {
                if (*fd_count < fd_cap)
                    fds[(*fd_count)++] = got[i];
                else
                    close(got[i]);
            }
        }
        if (buf[len] == '\n') {
            buf[len] = '\0';
            return (ssize_t)len;
        }
        /* At a line's start, skip the prompt ("> ") and the 'F' bytes that carry the
         * descriptors. */
        if (len > 0 || (buf[0] != 'F' && buf[0] != '>' && buf[0] != ' '))
            len++;
    }
    errno = EMSGSIZE;
    return -1;
}

int
admin_takeover_begin(const char *path, int *fds, size_t cap, size_t *count)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char line[64];
    size_t want;

    *count = 0;
    if (fd == -1 || strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "switchyard: --takeover %s: %s\n", path,
                fd == -1 ? strerror(errno) : "path too long");
        goto fail;
    }
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        send(fd, "prompt\n_getsocks\n", 17, MSG_NOSIGNAL) != 17 ||
        read_line(fd, line, sizeof(line), fds, cap, count, 5000) == -1) {
        fprintf(stderr, "switchyard: --takeover %s: %s\n", path, strerror(errno));
        goto fail;
    }
    /* Interactive mode, so that the session stays open for "_drain": empty lines come
     * between answers. */
    while (strncmp(line, "OK ", 3) != 0) {
        if (line[0] != '\0') {
            fprintf(stderr, "switchyard: --takeover %s: unexpected answer '%s'\n", path, line);
            goto fail;
        }
        if (read_line(fd, line, sizeof(line), fds, cap, count, 5000) == -1) {
            fprintf(stderr, "switchyard: --takeover %s: %s\n", path, strerror(errno));
            goto fail;
        }
    }
    want = strtoul(line + 3, NULL, 10);
    while (*count < want && *count < cap) {
        char rest[8];

        /* Descriptors still to come ride on single 'F' bytes, then "\n> " follows. */
        if (read_line(fd, rest, sizeof(rest), fds, cap, count, 5000) == -1) {
            fprintf(stderr, "switchyard: --takeover %s: %zu of %zu sockets: %s\n", path,
                    *count, want, strerror(errno));
            goto fail;
        }
    }
    return fd;
fail:
    for (size_t i = 0; i < *count; i++)
        close(fds[i]);
    *count = 0;
    if (fd != -1)
        close(fd);
    return -1;
}

int
admin_takeover_finish(int conn)
{
    char line[64];
    size_t none = 0;
    int rc = -1;

    if (send(conn, "_drain\n", 7, MSG_NOSIGNAL) != 7) {
        fprintf(stderr, "switchyard: takeover: drain: %s\n", strerror(errno));
        goto out;
    }
    for (;;) {
        if (read_line(conn, line, sizeof(line), NULL, 0, &none, 5000) == -1) {
            fprintf(stderr, "switchyard: takeover: drain: %s\n", strerror(errno));
            goto out;
        }
        if (strcmp(line, "OK") == 0)
            break;
        if (line[0] != '\0') {
            fprintf(stderr, "switchyard: takeover: drain: unexpected answer '%s'\n", line);
            goto out;
        }
    }
    rc = 0;
out:
    close(conn);
    return rc;
}
