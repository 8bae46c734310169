/* switchyard: the per-site proxy binary. The configuration is the table linked in
 * (gen_table); this file is the command line, process set-up and the event loop. */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "hostname.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "quicrelay.h"
#include "sandbox.h"
#include "stats.h"
#include "table.h"

#ifndef SY_VERSION
#define SY_VERSION "dev"
#endif

#define WORKERS_MAX YT_WORKERS_MAX

static const struct yt_table *const T = &gen_table;

static struct ev_timer grace_timer;
static struct ev_prepare drain_watch;   /* after SIGTERM: ends the loop once idle */
static pid_t supervisor;                /* a worker's parent; 0 in a single process */

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: switchyard                    run the proxy (foreground)\n"
            "       switchyard --takeover PATH    run, taking the listening sockets over from\n"
            "                                     the running binary's admin socket PATH\n"
            "       switchyard --version          version and digest of the configuration\n"
            "       switchyard --print-config     the configuration this binary was built from\n"
            "       switchyard --resolve LISTENER HOST [PATH]\n"
            "                                     show the route for HOST; LISTENER is a\n"
            "                                     listener name or tls, http, redirect,\n"
            "                                     quic\n"
            "       switchyard --help\n");
}

static int
str_eq(struct yt_str s, const char *c)
{
    return strlen(c) == s.len && memcmp(T->blob + s.off, c, s.len) == 0;
}

/* ---- --resolve ---- */

static const struct yt_listener *
find_listener(const char *arg)
{
    for (uint32_t i = 0; i < T->listener_count; i++)
        if (str_eq(T->listeners[i].name, arg))
            return &T->listeners[i];
    for (uint32_t m = 0; m < YT_MODE_COUNT; m++) {
        if (strcmp(arg, yt_mode_names[m]) != 0)
            continue;
        for (uint32_t i = 0; i < T->listener_count; i++)
            if (T->listeners[i].mode == m)
                return &T->listeners[i];
    }
    return NULL;
}

static void
print_pool(uint32_t pool)
{
    const struct yt_pool *p = &T->pools[pool];

    printf("pool: %.*s\n", (int)p->name.len, T->blob + p->name.off);
    for (uint32_t i = p->first; i < p->first + p->count; i++) {
        const struct yt_server *s = &T->servers[i];

        printf("server: %.*s weight %u%s%s%s\n", (int)s->name.len, T->blob + s->name.off,
               s->weight, s->flags & YT_SERVER_BACKUP ? " backup" : "",
               s->flags & YT_SERVER_PROXY_V1 ? " send-proxy" : "",
               s->flags & YT_SERVER_PROXY_V2 ? " send-proxy-v2" : "");
    }
}

static int
cmd_resolve(const char *lname, const char *host, const char *path)
{
    const struct yt_listener *l = find_listener(lname);
    char name[YT_NAME_MAX + 2];
    size_t len;
    ssize_t n;
    const char *why;
    struct yt_decision d;

    if (l == NULL) {
        fprintf(stderr, "switchyard: --resolve: no listener named '%s' (listeners: ", lname);
        for (uint32_t i = 0; i < T->listener_count; i++)
            fprintf(stderr, "%s%.*s", i > 0 ? ", " : "", (int)T->listeners[i].name.len,
                    T->blob + T->listeners[i].name.off);
        fputs("; or a mode:", stderr);
        for (uint32_t m = 0; m < YT_MODE_COUNT; m++)
            fprintf(stderr, "%s %s", m > 0 ? "," : "", yt_mode_names[m]);
        fputs(")\n", stderr);
        return 2;
    }
    n = hostname_normalise(host, name, sizeof(name), &why);
    if (n == -1) {
        fprintf(stderr, "switchyard: --resolve: '%s': %s\n", host, why);
        return 2;
    }
    len = (size_t)n;
    d = yt_resolve(T, l, name, len, path, path != NULL ? strlen(path) : 0);
    printf("listener: %.*s (%s)\n", (int)l->name.len, T->blob + l->name.off,
           yt_mode_names[l->mode]);
    printf("host: %s\n", name);
    if (d.site != YT_NONE)
        printf("site: %.*s\n", (int)T->sites[d.site].name.len,
               T->blob + T->sites[d.site].name.off);
    else
        printf("site: -\n");
    switch (d.action) {
    case YT_ACT_POOL:
        printf("action: %s\n", d.fallback ? "fallback" : "pool");
        print_pool(d.pool);
        break;
    case YT_ACT_STATUS:
        printf("action: status %u\n", d.status);
        break;
    case YT_ACT_ALERT:
        printf("action: alert unrecognized_name\n");
        break;
    case YT_ACT_REDIRECT:
        printf("action: redirect %u https://%s", d.status, name);
        if (l->redirect_port != 0 && l->redirect_port != 443)
            printf(":%u", l->redirect_port);
        printf("%s\n", path != NULL ? path : "/");
        break;
    }
    return 0;
}

/* ---- running ---- */

static void
drain_cb(struct ev_loop *loop, struct ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    if (listener_live_count() == 0)
        ev_break(loop, EVBREAK_ALL);
}

static void
grace_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    log_msg(LOG_LEVEL_NOTICE, "grace period over: closing %u connections",
            listener_live_count());
    conn_close_all(loop);
    http_close_all(loop);
    quicrelay_close_all(loop);
    ev_break(loop, EVBREAK_ALL);
}

/* Stops accepting and lets open connections finish within the grace period. */
static void
begin_stop(struct ev_loop *loop)
{
    if (ev_is_active(&drain_watch))
        return;
    listener_close_all(loop);
    http_quiesce(loop);
    ev_timer_init(&grace_timer, grace_cb, T->timeouts.grace_ms / 1000.0, 0.);
    ev_timer_start(loop, &grace_timer);
    ev_prepare_init(&drain_watch, drain_cb);
    ev_prepare_start(loop, &drain_watch);
}

/* SIGTERM, SIGINT. */
static void
stop_cb(struct ev_loop *loop, struct ev_signal *w, int revents)
{
    (void)revents;
    if (ev_is_active(&drain_watch))
        return;
    log_msg(LOG_LEVEL_NOTICE, "signal %d: closing listeners, %u connections open", w->signum,
            listener_live_count());
    begin_stop(loop);
}

/* The admin socket's "_drain" (a new binary has taken the listeners over). With several
 * workers, the first one serves the admin socket: the supervisor passes the stop on to
 * every worker. */
static void
drain_single(struct ev_loop *loop)
{
    log_msg(LOG_LEVEL_NOTICE, "takeover: closing listeners, %u connections open",
            listener_live_count());
    begin_stop(loop);
}

/* With workers, the supervisor passes the stop on to every worker. A worker whose
 * supervisor is gone (it got SIGTERM then, PR_SET_PDEATHSIG) stops alone: its parent is
 * now another process, init or a subreaper, never to be signalled. */
static void
drain_workers(struct ev_loop *loop)
{
    if (getppid() == supervisor && kill(supervisor, SIGTERM) == 0)
        return;
    drain_single(loop);
}

static int
run_worker(uint32_t worker, uint32_t count, int takeover)
{
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    struct ev_signal sigterm, sigint;
    struct admin_info info = {
        .version = SY_VERSION,
        .workers = count,
        .drain = count > 1 ? drain_workers : drain_single,
        .sockets = listener_fds,
    };

    if (loop == NULL || conn_init(T) == -1 || http_init(T) == -1 || quicrelay_init(T) == -1) {
        fprintf(stderr, "switchyard: cannot set up the event loop\n");
        return 1;
    }
    stats_set_worker(worker);
    log_start(loop);
    listener_start(loop);
    if (worker == 0)
        admin_start(loop, &info);
    else
        admin_close(false);
    ev_signal_init(&sigterm, stop_cb, SIGTERM);
    ev_signal_init(&sigint, stop_cb, SIGINT);
    ev_signal_start(loop, &sigterm);
    ev_signal_start(loop, &sigint);
    ev_unref(loop);                 /* signal watchers alone do not keep the loop running */
    ev_unref(loop);
    if (sandbox_seccomp(supervisor) == -1)
        return 1;
    log_msg(LOG_LEVEL_NOTICE, "switchyard %s started, config sha256:%.12s, pid %d", SY_VERSION,
            T->digest, (int)getpid());
    if (takeover != -1 && admin_takeover_finish(takeover) == 0)
        log_msg(LOG_LEVEL_NOTICE, "takeover: the old process stopped accepting");
    ev_run(loop, 0);
    ev_ref(loop);
    ev_ref(loop);
    ev_signal_stop(loop, &sigterm);
    ev_signal_stop(loop, &sigint);
    ev_timer_stop(loop, &grace_timer);
    ev_prepare_stop(loop, &drain_watch);
    conn_close_all(loop);
    http_close_all(loop);
    quicrelay_close_all(loop);
    admin_close(worker == 0);
    log_msg(LOG_LEVEL_NOTICE, "exiting, %llu log lines dropped",
            (unsigned long long)log_dropped());
    conn_fini();
    http_fini();
    quicrelay_fini();
    log_close();
    return 0;
}

/* ---- workers ---- */

#define RESTARTS_MAX 5              /* unexpected worker deaths restarted per window ... */
#define RESTART_WINDOW 60.0         /* ... of this many seconds; one more stops everything */

struct workers {
    pid_t pid[WORKERS_MAX];         /* 0: not running */
    uint32_t count, alive;
    int takeover;                   /* the old binary's admin connection, or -1 */
    sigset_t mask;                  /* the signal mask a worker starts with */
    ev_tstamp restarts[RESTARTS_MAX];   /* when the last ones were, oldest first */
    bool stopping;
    int status;
};

/* Forks worker i. The child dies with its supervisor (PR_SET_PDEATHSIG), and leaves at
 * once if the supervisor died before that was set. Returns the child's pid, or -1. */
static pid_t
spawn(struct workers *w, uint32_t i)
{
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, &w->mask, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != supervisor)
        _exit(1);
    if (w->takeover != -1)
        close(w->takeover);
    /* The first worker serves the admin socket: it keeps every set to hand over. */
    listener_keep_set((int)i, i == 0);
    _exit(run_worker(i, w->count, -1));
}

/* SIGTERM to every worker; the supervisor's own copies of the listening sockets and of
 * the admin socket close, so that new connections are refused. */
static void
stop_workers(struct workers *w)
{
    w->stopping = true;
    listener_keep_set(-1, false);
    admin_close(false);
    for (uint32_t i = 0; i < w->count; i++)
        if (w->pid[i] > 0)
            kill(w->pid[i], SIGTERM);
}

/* Another restart within the limit? Records it if so. */
static bool
may_restart(struct workers *w)
{
    ev_tstamp now = ev_time();

    if (now - w->restarts[0] < RESTART_WINDOW)
        return false;
    memmove(w->restarts, w->restarts + 1, sizeof(w->restarts) - sizeof(w->restarts[0]));
    w->restarts[RESTARTS_MAX - 1] = now;
    return true;
}

/* Worker i (pid) ended with status st: expected when stopping or after a clean exit;
 * otherwise it is restarted, RESTARTS_MAX times per RESTART_WINDOW at most. */
static void
reap(struct workers *w, uint32_t i, pid_t pid, int st)
{
    char why[128];

    w->pid[i] = 0;
    w->alive--;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (!w->stopping)
            log_msg(LOG_LEVEL_NOTICE, "worker %u (pid %d) exited", i, (int)pid);
        return;
    }
    if (WIFSIGNALED(st))
        snprintf(why, sizeof(why), "killed by signal %d (%s%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)),
                 WTERMSIG(st) == SIGSYS ? ": a system call outside the allow-list" : "");
    else
        snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(st));
    if (w->stopping) {
        w->status = 1;
        log_msg(LOG_LEVEL_ERR, "worker %u (pid %d) %s", i, (int)pid, why);
        return;
    }
    if (!may_restart(w)) {
        w->status = 1;
        log_msg(LOG_LEVEL_ERR, "worker %u (pid %d) %s: %d restarts in %.0f s, stopping",
                i, (int)pid, why, RESTARTS_MAX, RESTART_WINDOW);
        stop_workers(w);
        return;
    }
    w->pid[i] = spawn(w, i);
    if (w->pid[i] == -1) {
        log_msg(LOG_LEVEL_ERR, "worker %u (pid %d) %s: fork: %s, stopping", i, (int)pid, why,
                strerror(errno));
        w->pid[i] = 0;
        w->status = 1;
        stop_workers(w);
        return;
    }
    w->alive++;
    log_msg(LOG_LEVEL_ERR, "worker %u (pid %d) %s: restarted as pid %d", i, (int)pid, why,
            (int)w->pid[i]);
}

/* Forks count workers sharing the listeners (one SO_REUSEPORT set each) and waits; on
 * SIGTERM or SIGINT passes the signal on and waits for them all. Keeps the listening
 * sockets and the admin socket, for a worker that has to be restarted. */
static int
supervise(uint32_t count, int takeover)
{
    static struct workers w;
    sigset_t set;

    w = (struct workers){ .count = count, .takeover = takeover };
    for (int k = 0; k < RESTARTS_MAX; k++)
        w.restarts[k] = -RESTART_WINDOW;
    supervisor = getpid();
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &w.mask);
    for (uint32_t i = 0; i < count; i++) {
        w.pid[i] = spawn(&w, i);
        if (w.pid[i] == -1) {
            fprintf(stderr, "switchyard: fork: %s\n", strerror(errno));
            w.pid[i] = 0;
            w.status = 1;
            stop_workers(&w);
            break;
        }
        w.alive++;
    }
    /* The workers accept on the very sockets the old process had: what arrives before
     * they run waits in the backlog. */
    if (takeover != -1 && admin_takeover_finish(takeover) == 0)
        fprintf(stderr, "switchyard: takeover: the old process stopped accepting\n");
    w.takeover = -1;
    while (w.alive > 0) {
        int sig, st;
        pid_t pid;

        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT) {
            stop_workers(&w);
            continue;
        }
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
            for (uint32_t i = 0; i < count; i++)
                if (w.pid[i] == pid)
                    reap(&w, i, pid, st);
    }
    listener_keep_set(-1, false);
    admin_close(false);
    log_close();
    return w.status;
}

static int
cmd_run(const char *takeover_path)
{
    uint32_t workers = T->global.workers ? T->global.workers : 1;
    struct rlimit rl;
    int takeover = -1;

    if (T->abi != YT_ABI || T->listener_count == 0) {
        fprintf(stderr, "switchyard: %s\n",
                T->abi != YT_ABI ? "table ABI mismatch" : "no listener in the configuration");
        return 1;
    }
    if (workers > WORKERS_MAX) {
        fprintf(stderr, "switchyard: at most %d workers\n", WORKERS_MAX);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Two descriptors per connection, and pipes: take all the kernel allows. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (log_open(T) == -1)
        return 1;
    if (stats_init(T, workers) == -1) {
        fprintf(stderr, "switchyard: cannot map the counters: %s\n", strerror(errno));
        return 1;
    }
    if (takeover_path != NULL) {
        int fds[ADMIN_FDS_MAX];
        size_t n;

        takeover = admin_takeover_begin(takeover_path, fds, ADMIN_FDS_MAX, &n);
        if (takeover == -1 || listener_adopt(T, fds, n) == -1)
            return 1;
        fprintf(stderr, "switchyard: takeover: %zu listening sockets received\n", n);
    }
    for (uint32_t i = 0; i < workers; i++)
        if (listener_bind_all(T, workers > 1) == -1)
            return 1;
    if (takeover != -1) {
        size_t unused = listener_adopt_done();

        if (unused > 0)
            fprintf(stderr, "switchyard: takeover: %zu sockets no listener wants, closed\n",
                    unused);
    }
    if (admin_open(T) == -1 || sandbox_drop(T) == -1)
        return 1;
    return workers > 1 ? supervise(workers, takeover) : run_worker(0, 1, takeover);
}

int
main(int argc, char **argv)
{
    if (argc == 1)
        return cmd_run(NULL);
    if (strcmp(argv[1], "--takeover") == 0 && argc == 3)
        return cmd_run(argv[2]);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 && argc == 2) {
        printf("switchyard %s config sha256:%s\n", SY_VERSION, T->digest);
        return 0;
    }
    if (strcmp(argv[1], "--print-config") == 0 && argc == 2) {
        fwrite(T->blob + T->config.off, 1, T->config.len, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--resolve") == 0 && (argc == 4 || argc == 5))
        return cmd_resolve(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    usage(stderr);
    return 2;
}
