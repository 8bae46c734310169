/* switchyard: the per-site proxy binary. The configuration is the table linked in
 * (gen_table); this file is the command line, process set-up and the event loop. */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "health.h"
#include "krelay.h"
#include "hostname.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "quicrelay.h"
#include "sandbox.h"
#include "scrape.h"
#include "service.h"
#include "stats.h"
#include "table.h"

#ifndef SY_VERSION
#define SY_VERSION "dev"
#endif

#define WORKERS_MAX YT_WORKERS_MAX
#define STATUS_EVERY 5.0            /* seconds between STATUS= lines to the service manager */
#define READY_WITHIN_MS 10000       /* new workers must say they serve within this */

static const struct yt_table *const T = &gen_table;

static struct ev_timer grace_timer;
static struct ev_prepare drain_watch;   /* after SIGTERM: ends the loop once idle */
static pid_t supervisor;                /* a worker's parent; 0 in a single process */
static bool master;                     /* --master: the supervisor re-executes on SIGHUP */
static int ready_fd = -1;               /* a new worker's end of the supervisor's readiness pipe */

/* A sink for yt_print_config(): the configuration to standard output. */
static void
put_stdout(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    fwrite(s, 1, len, stdout);
}

/* The servers in maintenance, carried over a reload by name. */
#define ENV_MAINT "SWITCHYARD_MAINT"
#define MAINT_LIST_MAX 65536

static void
restore_maint(void)
{
    const char *list = getenv(ENV_MAINT);
    uint32_t kept, missing;

    if (list == NULL)
        return;
    kept = stats_maint_restore(list, &missing);
    log_msg(LOG_LEVEL_NOTICE, "reload: %u servers kept in maintenance", kept);
    if (missing > 0)
        log_msg(LOG_LEVEL_WARNING, "reload: %u servers in maintenance are not in this "
                "configuration", missing);
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: switchyard                    run the proxy (foreground)\n"
            "       switchyard --takeover PATH    run, taking the listening sockets over from\n"
            "                                     the running binary's admin socket PATH\n"
            "       switchyard --master           run as a master process that holds the\n"
            "                                     listening sockets, supervises the workers\n"
            "                                     and re-executes this path on SIGHUP\n"
            "       switchyard --version          version and digest of the configuration\n"
            "       switchyard --print-config     the configuration this binary was built from\n"
            "       switchyard --resolve LISTENER HOST [PATH]\n"
            "                                     show the route for HOST; LISTENER is a\n"
            "                                     listener name or tls, http, redirect,\n"
            "                                     metrics, quic\n"
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
    if (l->mode == YT_MODE_METRICS) {
        printf("action: metrics (GET /metrics answered by the listener; no routing)\n");
        return 0;
    }
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
    scrape_close_all(loop);
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
    scrape_quiesce(loop);
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
    notify_send("STOPPING=1\nSTATUS=stopping: %u connections open", listener_live_count());
    begin_stop(loop);
}

/* SIGHUP to a single process: a reload needs the master, which can re-execute. */
static void
hup_cb(struct ev_loop *loop, struct ev_signal *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    log_msg(LOG_LEVEL_WARNING, "SIGHUP ignored: reloading needs the master process "
                               "(switchyard --master)");
}

/* The service manager's status line, from a single process. */
static void
status_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    notify_send("STATUS=serving %u listeners, %u connections", T->listener_count,
                listener_live_count());
}

/* The admin socket's "_drain" (a new binary has taken the listeners over). With several
 * workers, the first one serves the admin socket: the supervisor passes the stop on to
 * every worker. */
static void
drain_single(struct ev_loop *loop)
{
    log_msg(LOG_LEVEL_NOTICE, "takeover: closing listeners, %u connections open",
            listener_live_count());
    notify_send("STOPPING=1\nSTATUS=handed over: %u connections open", listener_live_count());
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
    struct ev_signal sigterm, sigint, sighup;
    struct ev_timer status;
    struct admin_info info = {
        .version = SY_VERSION,
        .workers = count,
        .drain = count > 1 ? drain_workers : drain_single,
        .sockets = listener_fds,
    };

    if (loop == NULL || health_init(T) == -1 || conn_init(T) == -1 || http_init(T) == -1 ||
        quicrelay_init(T) == -1) {
        fprintf(stderr, "switchyard: cannot set up the event loop\n");
        return 1;
    }
    scrape_init(T);
    stats_set_worker(worker);
    krelay_use(worker);
    log_start(loop);
    listener_start(loop);
    health_start(loop);
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
    ev_signal_init(&sighup, hup_cb, SIGHUP);
    ev_timer_init(&status, status_cb, STATUS_EVERY, STATUS_EVERY);
    if (supervisor == 0) {
        ev_signal_start(loop, &sighup);
        ev_unref(loop);
        if (notify_is_on()) {
            ev_timer_start(loop, &status);
            ev_unref(loop);
        }
    }
    if (sandbox_seccomp(supervisor) == -1)
        return 1;
    log_msg(LOG_LEVEL_NOTICE, "switchyard %s started, config sha256:%.12s, pid %d", SY_VERSION,
            T->digest, (int)getpid());
    notify_send("READY=1\nSTATUS=serving %u listeners, 0 connections", T->listener_count);
    if (ready_fd != -1) {           /* tells the supervisor this worker serves */
        if (write(ready_fd, "r", 1) == -1)
            log_msg(LOG_LEVEL_WARNING, "readiness: %s", strerror(errno));
        close(ready_fd);
        ready_fd = -1;
    }
    if (takeover != -1 && admin_takeover_finish(takeover) == 0)
        log_msg(LOG_LEVEL_NOTICE, "takeover: the old process stopped accepting");
    ev_run(loop, 0);
    ev_ref(loop);
    ev_ref(loop);
    ev_signal_stop(loop, &sigterm);
    ev_signal_stop(loop, &sigint);
    if (supervisor == 0) {
        ev_ref(loop);
        ev_signal_stop(loop, &sighup);
        if (ev_is_active(&status)) {
            ev_ref(loop);
            ev_timer_stop(loop, &status);
        }
    }
    ev_timer_stop(loop, &grace_timer);
    ev_prepare_stop(loop, &drain_watch);
    conn_close_all(loop);
    http_close_all(loop);
    scrape_close_all(loop);
    quicrelay_close_all(loop);
    admin_close(worker == 0);
    log_msg(LOG_LEVEL_NOTICE, "exiting, %llu log lines dropped",
            (unsigned long long)log_dropped());
    conn_fini();
    http_fini();
    health_fini(loop);
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
    pid_t old[SERVICE_PIDS_MAX];    /* the previous image's workers, draining; 0: gone */
    uint32_t old_count, old_alive;
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
    signal(SIGHUP, SIG_IGN);        /* the master's; a worker has nothing to reload */
    notify_close();                 /* only the main process speaks to the manager */
    if (w->takeover != -1)
        close(w->takeover);
    /* The master keeps its privileges to bind and execute on reload; workers drop. */
    if (master && sandbox_drop(T) == -1)
        _exit(1);
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
    for (uint32_t i = 0; i < w->old_count; i++)
        if (w->old[i] > 0)
            kill(w->old[i], SIGTERM);
}

/* The service manager's status line, from the master. */
static void
master_status(const struct workers *w)
{
    char old[64] = "";

    if (w->stopping)
        return;
    if (w->old_alive > 0)
        snprintf(old, sizeof(old), "; %u old workers draining", w->old_alive);
    notify_send("STATUS=serving %u listeners with %u workers, %llu connections%s",
                T->listener_count, w->alive, (unsigned long long)stats_live(), old);
}

/* The previous image's workers (after a reload): they stop accepting and finish their
 * connections, as on SIGTERM, while this image's workers take the new ones. */
static void
drain_old(struct workers *w)
{
    w->old_count = (uint32_t)service_old_workers(w->old, SERVICE_PIDS_MAX);
    /* Those that ended already are reaped in the loop, as the others. */
    for (uint32_t i = 0; i < w->old_count; i++)
        if (kill(w->old[i], SIGTERM) == 0)
            w->old_alive++;
        else
            w->old[i] = 0;
    if (w->old_count > 0)
        log_msg(LOG_LEVEL_NOTICE, "reload: %s%u workers of the previous image draining",
                service_reload_failed() != NULL ? "" : "switchyard " SY_VERSION " serving; ",
                w->old_alive);
    if (service_reload_failed() != NULL)
        log_msg(LOG_LEVEL_ERR, "reload failed: %s; this binary (switchyard %s, config "
                               "sha256:%.12s) serves again", service_reload_failed(),
                SY_VERSION, T->digest);
}

/* Waits (READY_WITHIN_MS at most) until the n workers just forked have each written their
 * byte to the readiness pipe (fd, taken): false when one ended first (the pipe's end of
 * file comes early) or time ran out. */
static bool
workers_ready(int fd, uint32_t n)
{
    struct timespec t0, t;
    uint32_t got = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < n) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char buf[WORKERS_MAX];
        ssize_t r;
        long left;

        clock_gettime(CLOCK_MONOTONIC, &t);
        left = READY_WITHIN_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
                                  (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            break;
        r = read(fd, buf, sizeof(buf));
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (uint32_t)r;
    }
    close(fd);
    if (got < n)
        log_msg(LOG_LEVEL_ERR, "%u of %u workers did not start serving", n - got, n);
    return got >= n;
}

/* After a reload whose workers did not start: the previous binary again, which drains
 * these workers with the others. Returns if it cannot be executed. */
static void
reload_fall_back(struct workers *w)
{
    pid_t pids[WORKERS_MAX];
    size_t n = 0;

    for (uint32_t i = 0; i < w->count; i++)
        if (w->pid[i] > 0)
            pids[n++] = w->pid[i];
    service_fall_back(pids, n);
}

/* A worker of the previous image ended. Whether pid was one; logs how it ended. */
static bool
reap_old(struct workers *w, pid_t pid, int st)
{
    for (uint32_t i = 0; i < w->old_count; i++) {
        if (w->old[i] != pid)
            continue;
        w->old[i] = 0;
        w->old_alive--;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            log_msg(LOG_LEVEL_NOTICE, "reload: old worker (pid %d) drained and exited",
                    (int)pid);
        else
            log_msg(LOG_LEVEL_ERR, "reload: old worker (pid %d) %s %d", (int)pid,
                    WIFSIGNALED(st) ? "killed by signal" : "exited with status",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        return true;
    }
    return false;
}

/* SIGHUP to the master: executes the binary at the path it was started from in this
 * process, handing over the listening sockets and the running workers. Returns only when
 * the new binary cannot be executed: this one goes on. */
static void
reload(struct workers *w)
{
    static char maint[MAINT_LIST_MAX];
    int fds[ADMIN_FDS_MAX];
    pid_t pids[SERVICE_PIDS_MAX];
    size_t n = listener_fds(fds, ADMIN_FDS_MAX), np = 0;
    char why[512];

    if (!master || w->stopping) {
        log_msg(LOG_LEVEL_WARNING, "SIGHUP ignored: %s", w->stopping ? "stopping"
                : "reloading needs the master process (switchyard --master)");
        return;
    }
    log_msg(LOG_LEVEL_NOTICE, "SIGHUP: reloading");
    notify_reloading("reloading");
    for (uint32_t i = 0; i < w->count; i++)
        if (w->pid[i] > 0)
            pids[np++] = w->pid[i];
    for (uint32_t i = 0; i < w->old_count && np < SERVICE_PIDS_MAX; i++)
        if (w->old[i] > 0)
            pids[np++] = w->old[i];
    /* the servers in maintenance stay there in the new image (and in this one, if the new
     * one cannot start and this is executed again) */
    if (stats_maint_names(maint, sizeof(maint)) > 0)
        setenv(ENV_MAINT, maint, 1);
    else
        unsetenv(ENV_MAINT);
    service_reexec(fds, n, pids, np, why, sizeof(why));
    log_msg(LOG_LEVEL_ERR, "reload failed: %s; this binary goes on serving", why);
    notify_send("READY=1\nSTATUS=reload failed: %s; serving %u listeners with %u workers", why,
                T->listener_count, w->alive);
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
    struct timespec every = { .tv_sec = (time_t)STATUS_EVERY };

    w = (struct workers){ .count = count, .takeover = takeover };
    for (int k = 0; k < RESTARTS_MAX; k++)
        w.restarts[k] = -RESTART_WINDOW;
    supervisor = getpid();
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &w.mask);
    /* After a reload this image starts with them blocked already: workers must not. */
    sigdelset(&w.mask, SIGTERM);
    sigdelset(&w.mask, SIGINT);
    sigdelset(&w.mask, SIGCHLD);
    sigdelset(&w.mask, SIGHUP);
    /* Each new worker writes a byte once it serves; restarted ones do not. */
    int ready[2] = { -1, -1 };

    if (pipe2(ready, O_CLOEXEC) == -1)
        log_msg(LOG_LEVEL_WARNING, "readiness pipe: %s", strerror(errno));
    ready_fd = ready[1];
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
    if (ready[1] != -1)
        close(ready[1]);
    ready_fd = -1;
    /* A reload whose workers cannot start goes back to the previous binary, whose workers
     * have gone on serving meanwhile. */
    if (ready[0] != -1 && !workers_ready(ready[0], w.alive) && service_is_reload())
        reload_fall_back(&w);
    if (takeover != -1 && admin_takeover_finish(takeover) == 0)
        fprintf(stderr, "switchyard: takeover: the old process stopped accepting\n");
    w.takeover = -1;
    drain_old(&w);
    service_started();
    notify_send("READY=1");
    master_status(&w);
    while (w.alive > 0 || w.old_alive > 0) {
        int sig, st;
        pid_t pid;

        sig = sigtimedwait(&set, NULL, &every);
        if (sig == SIGHUP) {
            reload(&w);
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            log_msg(LOG_LEVEL_NOTICE, "signal %d: stopping the workers", sig);
            notify_send("STOPPING=1\nSTATUS=stopping");
            stop_workers(&w);
            continue;
        }
        /* SIGCHLD, or the time for a status line: a SIGCHLD that came while the previous
         * image ran is not always pending in this one. */
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            if (reap_old(&w, pid, st))
                continue;
            for (uint32_t i = 0; i < count; i++)
                if (w.pid[i] == pid)
                    reap(&w, i, pid, st);
        }
        master_status(&w);
    }
    listener_keep_set(-1, false);
    admin_close(false);
    log_close();
    return w.status;
}

/* The listening sockets the process was started with: from the master's previous image
 * after a reload, or from the service manager (socket activation). Returns how many were
 * adopted (0: none), or -1. */
static int
adopt_passed(void)
{
    int fds[ADMIN_FDS_MAX];
    size_t n;
    bool only;

    if (service_sockets(T, fds, ADMIN_FDS_MAX, &n, &only) == -1)
        return -1;
    if (n == 0)
        return 0;
    if (listener_adopt(T, fds, n, only) == -1)
        return -1;
    fprintf(stderr, "switchyard: %zu listening sockets %s\n", n,
            only ? "passed by the service manager" : "kept across the reload");
    return 1;
}

static int
cmd_run(const char *takeover_path, char **argv)
{
    uint32_t workers = T->global.workers ? T->global.workers : 1;
    struct rlimit rl;
    int takeover = -1, passed = 0;

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
    if (notify_open() == -1 || (master && service_master_init(argv) == -1))
        return 1;
    if (log_open(T) == -1)
        return 1;
    if (stats_init(T, workers) == -1) {
        fprintf(stderr, "switchyard: cannot map the counters: %s\n", strerror(errno));
        return 1;
    }
    metrics_init(SY_VERSION, workers);
    restore_maint();
    if (takeover_path != NULL) {
        int fds[ADMIN_FDS_MAX];
        size_t n;

        takeover = admin_takeover_begin(takeover_path, fds, ADMIN_FDS_MAX, &n);
        if (takeover == -1 || listener_adopt(T, fds, n, false) == -1)
            return 1;
        fprintf(stderr, "switchyard: takeover: %zu listening sockets received\n", n);
    } else if ((passed = adopt_passed()) == -1) {
        return 1;
    }
    for (uint32_t i = 0; i < workers; i++)
        if (listener_bind_all(T, workers > 1) == -1)
            return 1;
    if (admin_open(T) == -1)
        return 1;
    if (takeover != -1 || passed > 0) {
        size_t unused = listener_adopt_done();

        if (unused > 0)
            fprintf(stderr, "switchyard: %s: %zu sockets no listener wants, closed\n",
                    takeover != -1 ? "takeover" : "reload", unused);
    }
    /* The kernel relay is loaded while the process may still do it, for every worker. */
    if (krelay_load(T))
        sandbox_allow_relay_maps();
    if (!master && sandbox_drop(T) == -1)
        return 1;
    return workers > 1 || master ? supervise(workers, takeover) : run_worker(0, 1, takeover);
}

int
main(int argc, char **argv)
{
    if (argc == 1)
        return cmd_run(NULL, argv);
    if (strcmp(argv[1], "--takeover") == 0 && argc == 3)
        return cmd_run(argv[2], argv);
    if (strcmp(argv[1], "--master") == 0 && argc == 2) {
        int rc;

        master = true;
        rc = cmd_run(NULL, argv);
        if (rc != 0)
            service_fall_back(NULL, 0); /* a reload that cannot start: the previous one */
        return rc;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 && argc == 2) {
        printf("switchyard %s config sha256:%s\n", SY_VERSION, T->digest);
        return 0;
    }
    if (strcmp(argv[1], "--print-config") == 0 && argc == 2) {
        yt_print_config(T, put_stdout, NULL);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    if (strcmp(argv[1], "--resolve") == 0 && (argc == 4 || argc == 5))
        return cmd_resolve(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    usage(stderr);
    return 2;
}
