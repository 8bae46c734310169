/* switchyard: the per-site proxy binary. The configuration is the table linked in
 * (gen_table); this file is the command line, process set-up and the event loop. */
#include <errno.h>
#include <ev.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "hostname.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "passwd.h"
#include "stats.h"
#include "table.h"

#ifndef SY_VERSION
#define SY_VERSION "dev"
#endif

#define WORKERS_MAX YT_WORKERS_MAX

static const struct yt_table *const T = &gen_table;
static const char *const mode_names[YT_MODE_COUNT] = { "tls", "http", "redirect" };

static struct ev_timer grace_timer;
static struct ev_prepare drain_watch;   /* after SIGTERM: ends the loop once idle */

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
            "                                     listener name or tls, http, redirect\n"
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
        if (strcmp(arg, mode_names[m]) != 0)
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
        fputs("; or a mode: tls, http, redirect)\n", stderr);
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
           mode_names[l->mode]);
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

static void
drain_workers(struct ev_loop *loop)
{
    (void)loop;
    kill(getppid(), SIGTERM);
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

    if (loop == NULL || conn_init(T) == -1 || http_init(T) == -1) {
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
    admin_close(worker == 0);
    log_msg(LOG_LEVEL_NOTICE, "exiting, %llu log lines dropped",
            (unsigned long long)log_dropped());
    conn_fini();
    http_fini();
    log_close();
    return 0;
}

/* Forks count workers sharing the listeners (one SO_REUSEPORT set each) and waits; on
 * SIGTERM or SIGINT passes the signal on and waits for them all. */
static int
supervise(uint32_t count, int takeover)
{
    pid_t pids[WORKERS_MAX];
    sigset_t set, old;
    uint32_t alive = 0;
    int status = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    for (uint32_t i = 0; i < count; i++) {
        pids[i] = fork();
        if (pids[i] == -1) {
            fprintf(stderr, "switchyard: fork: %s\n", strerror(errno));
            for (uint32_t j = 0; j < i; j++)
                kill(pids[j], SIGTERM);
            count = i;
            status = 1;
            break;
        }
        if (pids[i] == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            if (takeover != -1)
                close(takeover);
            /* The first worker serves the admin socket: it keeps every set to hand over. */
            listener_keep_set((int)i, i == 0);
            _exit(run_worker(i, count, -1));
        }
        alive++;
    }
    listener_keep_set(-1, false);   /* the workers hold the sockets */
    admin_close(false);
    /* The workers accept on the very sockets the old process had: what arrives before
     * they run waits in the backlog. */
    if (takeover != -1 && admin_takeover_finish(takeover) == 0)
        fprintf(stderr, "switchyard: takeover: the old process stopped accepting\n");
    while (alive > 0) {
        int sig, st;
        pid_t pid;

        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT) {
            for (uint32_t i = 0; i < count; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            continue;
        }
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            for (uint32_t i = 0; i < count; i++) {
                if (pids[i] != pid)
                    continue;
                pids[i] = 0;
                alive--;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                    fprintf(stderr, "switchyard: worker %u (pid %d) failed\n", i, (int)pid);
                    status = 1;
                }
            }
        }
    }
    log_close();
    return status;
}

static bool
str_empty(struct yt_str s)
{
    return s.len == 0;
}

static char *
str_dup(struct yt_str s)
{
    return strndup(T->blob + s.off, s.len);
}

/* After binding: chroot and drop to the configured user and group (root only). */
static int
drop_privileges(void)
{
    const struct yt_global *g = &T->global;
    char *user = str_dup(g->user), *group = str_dup(g->group), *dir = str_dup(g->chroot);
    uint32_t uid = 0, gid = 0;
    const char *why = NULL;
    int rc = -1;

    if (str_empty(g->user) && str_empty(g->group) && str_empty(g->chroot)) {
        rc = 0;
        goto out;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "switchyard: not root: user, group and chroot left as they are\n");
        rc = 0;
        goto out;
    }
    /* Before the chroot, from the files themselves: no NSS, so a static binary can. */
    if (*user != '\0' && pw_lookup_user("/etc/passwd", user, &uid, &gid, &why) == -1) {
        fprintf(stderr, "switchyard: unknown user '%s': /etc/passwd: %s\n", user, why);
        goto out;
    }
    if (*group != '\0' && pw_lookup_group("/etc/group", group, &gid, &why) == -1) {
        fprintf(stderr, "switchyard: unknown group '%s': /etc/group: %s\n", group, why);
        goto out;
    }
    if (*dir != '\0' && (chroot(dir) == -1 || chdir("/") == -1)) {
        fprintf(stderr, "switchyard: chroot %s: %s\n", dir, strerror(errno));
        goto out;
    }
    if ((*group != '\0' || *user != '\0') &&
        (setgroups(1, &(gid_t){ gid }) == -1 || setgid(gid) == -1)) {
        fprintf(stderr, "switchyard: setgid %u: %s\n", (unsigned)gid, strerror(errno));
        goto out;
    }
    if (*user != '\0' && setuid(uid) == -1) {
        fprintf(stderr, "switchyard: setuid %s: %s\n", user, strerror(errno));
        goto out;
    }
    if (*user != '\0' && (getuid() == 0 || geteuid() == 0 || setuid(0) == 0)) {
        fprintf(stderr, "switchyard: still root after dropping to '%s': refusing to run\n",
                user);
        goto out;
    }
    rc = 0;
out:
    free(user);
    free(group);
    free(dir);
    return rc;
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
    /* Two descriptors per connection: take all the kernel allows. */
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
    if (admin_open(T) == -1 || drop_privileges() == -1)
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
