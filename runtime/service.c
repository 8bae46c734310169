#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "activate.h"
#include "listener.h"
#include "log.h"

/* Between two images of the master (the same process): the listening sockets, the
 * workers still running, the previous binary (a descriptor, to go back to if this one
 * cannot start), and why a reload failed (set by the image that failed). */
#define ENV_FDS "SWITCHYARD_FDS"
#define ENV_WORKERS "SWITCHYARD_WORKERS"
#define ENV_PREVIOUS "SWITCHYARD_PREVIOUS"
#define ENV_FAILED "SWITCHYARD_RELOAD_FAILED"

#define FDS_MAX 1024
#define PREFLIGHT_MS 5000           /* the new binary's --version must answer within this */

extern char **environ;

static char start_path[PATH_MAX];
static char **start_argv;
static char *passed_fds, *passed_workers;   /* as received, for service_fall_back() */
static int previous = -1;                   /* the previous binary, after a reload */
static char *failed;                        /* why the reload that led here failed */

/* ---- the sockets passed at start ---- */

/* "127.0.0.1:80", "[::1]:443", or what the socket is instead. */
static void
sock_name(int fd, char *out, size_t cap)
{
    union yt_addr a;
    socklen_t len = sizeof(a);
    char ip[INET6_ADDRSTRLEN] = "?";

    if (getsockname(fd, &a.sa, &len) == -1) {
        snprintf(out, cap, "not a socket");
    } else if (a.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a.in4.sin_addr, ip, sizeof(ip));
        snprintf(out, cap, "%s:%u", ip, ntohs(a.in4.sin_port));
    } else if (a.sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a.in6.sin6_addr, ip, sizeof(ip));
        snprintf(out, cap, "[%s]:%u", ip, ntohs(a.in6.sin6_port));
    } else {
        snprintf(out, cap, "not an IP socket (family %d)", a.sa.sa_family);
    }
}

static bool
listener_has(const struct yt_table *t, const struct yt_listener *l, int fd)
{
    for (uint32_t j = 0; j < l->bind_count; j++)
        if (listener_fd_is(fd, l, &t->binds[l->first_bind + j]))
            return true;
    return false;
}

/* A socket from the manager: bound as its namesake listener asks, or, not named after
 * one, as some listener asks. */
static int
check_passed(const struct yt_table *t, int fd, const char *name, size_t len)
{
    char addr[80];

    sock_name(fd, addr, sizeof(addr));
    for (uint32_t i = 0; name != NULL && i < t->listener_count; i++) {
        const struct yt_listener *l = &t->listeners[i];

        if (l->name.len != len || memcmp(t->blob + l->name.off, name, len) != 0)
            continue;
        if (listener_has(t, l, fd))
            return 0;
        fprintf(stderr, "switchyard: LISTEN_FDS: socket %d named '%.*s' (%s) is not a "
                        "%s socket on an address of listener %.*s\n",
                fd, (int)len, name, addr, l->mode == YT_MODE_QUIC ? "UDP" : "listening TCP",
                (int)len, name);
        return -1;
    }
    for (uint32_t i = 0; i < t->listener_count; i++)
        if (listener_has(t, &t->listeners[i], fd))
            return 0;
    fprintf(stderr, "switchyard: LISTEN_FDS: socket %d%s%.*s%s (%s) matches no listener of "
                    "the configuration: the socket unit has one too many\n",
            fd, name != NULL ? " '" : "", name != NULL ? (int)len : 0,
            name != NULL ? name : "", name != NULL ? "'" : "", addr);
    return -1;
}

static int
manager_sockets(const struct yt_table *t, int *fds, size_t cap, size_t *count)
{
    const char *why = NULL;
    char *names = getenv("LISTEN_FDNAMES") != NULL ? strdup(getenv("LISTEN_FDNAMES")) : NULL;
    size_t n;
    int rc = activate_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), (long)getpid(), cap,
                            &n, &why);

    /* Not for the workers, nor for a binary they would start. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (rc == -1)
        fprintf(stderr, "switchyard: %s\n", why);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int fd = ACTIVATE_FD_FIRST + (int)i;
        size_t len = 0;
        const char *name = activate_name(names, i, &len);

        if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
            fprintf(stderr, "switchyard: LISTEN_FDS=%zu, but descriptor %d: %s\n", n, fd,
                    strerror(errno));
            rc = -1;
            break;
        }
        fds[i] = fd;
        *count = i + 1;
        rc = check_passed(t, fd, name, len);
    }
    free(names);
    return rc;
}

int
service_sockets(const struct yt_table *t, int *fds, size_t cap, size_t *count, bool *only)
{
    const char *own = getenv(ENV_FDS);
    static long v[FDS_MAX];

    *count = 0;
    *only = false;
    if (own == NULL) {
        if (manager_sockets(t, fds, cap, count) == -1)
            return -1;
        *only = *count > 0;
        return 0;
    }
    long n = activate_list(own, 0, INT_MAX, v, cap < FDS_MAX ? cap : FDS_MAX);

    unsetenv(ENV_FDS);
    if (n == -1) {
        fprintf(stderr, "switchyard: %s=%s: not a list of descriptors\n", ENV_FDS, own);
        return -1;
    }
    for (long i = 0; i < n; i++)
        fds[i] = (int)v[i];
    *count = (size_t)n;
    return 0;
}

/* ---- the master's images ---- */

static char *
take_env(const char *name)
{
    const char *v = getenv(name);
    char *copy = v != NULL ? strdup(v) : NULL;

    unsetenv(name);
    return copy;
}

int
service_master_init(char **argv)
{
    long fd;
    int n;

    /* The path to execute on reload is the one the binary was started from, so that a
     * new binary installed there is what runs next (/proc/self/exe would be this one). */
    if (strchr(argv[0], '/') == NULL) {
        ssize_t len = readlink("/proc/self/exe", start_path, sizeof(start_path) - 1);

        n = len == -1 ? -1 : (int)len;
        if (n >= 0)
            start_path[n] = '\0';
    } else if (argv[0][0] == '/') {
        n = snprintf(start_path, sizeof(start_path), "%s", argv[0]);
    } else {
        char cwd[PATH_MAX];

        n = getcwd(cwd, sizeof(cwd)) == NULL
                ? -1
                : snprintf(start_path, sizeof(start_path), "%s/%s", cwd, argv[0]);
    }
    if (n < 0 || (size_t)n >= sizeof(start_path)) {
        fprintf(stderr, "switchyard: --master: cannot tell the path of this binary\n");
        return -1;
    }
    start_argv = argv;
    start_argv[0] = start_path;
    passed_fds = getenv(ENV_FDS) != NULL ? strdup(getenv(ENV_FDS)) : NULL;
    passed_workers = take_env(ENV_WORKERS);
    failed = take_env(ENV_FAILED);
    char *prev = take_env(ENV_PREVIOUS);

    if (prev != NULL && activate_list(prev, 0, INT_MAX, &fd, 1) == 1 &&
        fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0)
        previous = (int)fd;
    free(prev);
    return 0;
}

size_t
service_old_workers(pid_t *pids, size_t cap)
{
    static long v[SERVICE_PIDS_MAX];
    long n = passed_workers != NULL
                 ? activate_list(passed_workers, 1, INT_MAX, v,
                                 cap < SERVICE_PIDS_MAX ? cap : SERVICE_PIDS_MAX)
                 : 0;

    for (long i = 0; i < n; i++)
        pids[i] = (pid_t)v[i];
    return n > 0 ? (size_t)n : 0;
}

const char *
service_reload_failed(void)
{
    return failed;
}

void
service_started(void)
{
    if (previous != -1)
        close(previous);
    previous = -1;
}

bool
service_is_reload(void)
{
    return previous != -1;
}

void
service_fall_back(const pid_t *also, size_t n)
{
    static char workers[SERVICE_PIDS_MAX * 12];
    size_t len;

    if (previous == -1)
        return;
    fprintf(stderr, "switchyard: reload: %s failed to start: going back to the previous "
                    "binary\n", start_path);
    snprintf(workers, sizeof(workers), "%s", passed_workers != NULL ? passed_workers : "");
    for (size_t i = 0; i < n; i++) {
        len = strlen(workers);
        snprintf(workers + len, sizeof(workers) - len, "%s%d", len > 0 ? "," : "",
                 (int)also[i]);
    }
    if ((passed_fds != NULL && setenv(ENV_FDS, passed_fds, 1) == -1) ||
        setenv(ENV_WORKERS, workers, 1) == -1 ||
        setenv(ENV_FAILED, "the new binary failed to start (its messages are above)", 1) == -1)
        return;
    fexecve(previous, start_argv, environ);
    fprintf(stderr, "switchyard: reload: cannot execute the previous binary again: %s\n",
            strerror(errno));
}

/* Runs `path --version` (PREFLIGHT_MS at most): 0 with its first line in out when it
 * exits 0 and says it is a switchyard, else -1 with the reason in why. */
static int
preflight(const char *path, char *out, size_t cap, char *why, size_t why_cap)
{
    int p[2], st = 0;
    size_t len = 0;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) == -1) {
        snprintf(why, why_cap, "pipe: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        execl(path, path, "--version", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    if (pid == -1) {
        close(p[0]);
        snprintf(why, why_cap, "fork: %s", strerror(errno));
        return -1;
    }
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        long left;
        ssize_t n;

        clock_gettime(CLOCK_MONOTONIC, &t);
        left = PREFLIGHT_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            kill(pid, SIGKILL);
            st = -1;
            break;
        }
        n = read(p[0], out + len, cap - 1 - len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    close(p[0]);
    out[len] = '\0';
    out[strcspn(out, "\n")] = '\0';
    int wst;

    while (waitpid(pid, &wst, 0) == -1 && errno == EINTR)
        ;
    if (st == -1)
        snprintf(why, why_cap, "%s --version did not answer within %d ms", path, PREFLIGHT_MS);
    else if (WIFEXITED(wst) && WEXITSTATUS(wst) == 127)
        snprintf(why, why_cap, "%s cannot be executed", path);
    else if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
        snprintf(why, why_cap, "%s --version failed (%s %d)", path,
                 WIFSIGNALED(wst) ? "signal" : "exit status",
                 WIFSIGNALED(wst) ? WTERMSIG(wst) : WEXITSTATUS(wst));
    else if (strncmp(out, "switchyard ", 11) != 0)
        snprintf(why, why_cap, "%s is not a switchyard binary", path);
    else
        return 0;
    return -1;
}

/* "5,6,9": n numbers into out (cap bytes); -1 when they do not fit. */
static int
join(char *out, size_t cap, const long *v, size_t n)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(out + len, cap - len, "%s%ld", i > 0 ? "," : "", v[i]);

        if (k < 0 || (size_t)k >= cap - len)
            return -1;
        len += (size_t)k;
    }
    return 0;
}

static void
set_cloexec(const int *fds, size_t n, bool on)
{
    for (size_t i = 0; i < n; i++)
        fcntl(fds[i], F_SETFD, on ? FD_CLOEXEC : 0);
}

int
service_reexec(const int *fds, size_t n, const pid_t *pids, size_t np, char *why, size_t cap)
{
    static long v[FDS_MAX > SERVICE_PIDS_MAX ? FDS_MAX : SERVICE_PIDS_MAX];
    static char fd_list[FDS_MAX * 12], pid_list[SERVICE_PIDS_MAX * 12];
    char version[256], prev[16];
    int self;

    if (n > FDS_MAX || np > SERVICE_PIDS_MAX) {
        snprintf(why, cap, "too many sockets or workers to hand over");
        return -1;
    }
    if (preflight(start_path, version, sizeof(version), why, cap) == -1)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = fds[i];
    join(fd_list, sizeof(fd_list), v, n);
    for (size_t i = 0; i < np; i++)
        v[i] = pids[i];
    join(pid_list, sizeof(pid_list), v, np);
    /* This binary, to go back to if the new one cannot start (it may be gone from the
     * path by now: the descriptor still reaches it). */
    self = open("/proc/self/exe", O_RDONLY);
    snprintf(prev, sizeof(prev), "%d", self);
    log_msg(LOG_LEVEL_NOTICE, "reload: executing %s (%s) with %zu listening sockets", start_path,
            version, n);
    set_cloexec(fds, n, false);
    if (setenv(ENV_FDS, fd_list, 1) == 0 && setenv(ENV_WORKERS, pid_list, 1) == 0 &&
        (self == -1 || setenv(ENV_PREVIOUS, prev, 1) == 0))
        execv(start_path, start_argv);
    snprintf(why, cap, "exec %s: %s", start_path, strerror(errno));
    set_cloexec(fds, n, true);
    unsetenv(ENV_FDS);
    unsetenv(ENV_WORKERS);
    unsetenv(ENV_PREVIOUS);
    if (self != -1)
        close(self);
    return -1;
}
