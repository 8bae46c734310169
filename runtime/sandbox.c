#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passwd.h"

static char jail[PATH_MAX];         /* the chroot directory, no trailing '/'; set once in it */
static bool jailed;

static char *
str_dup(const struct yt_table *t, struct yt_str s)
{
    return strndup(t->blob + s.off, s.len);
}

/* Root with group or chroot but no user would stay root: a root process leaves a chroot
 * with a second chroot() and a relative path, and root's files stay open to it. */
static int
check_user(const char *user, const char *group, const char *dir)
{
    if (*user != '\0' || (*group == '\0' && *dir == '\0'))
        return 0;
    fprintf(stderr, "switchyard: %s without user: the process would stay root%s; "
                    "set user as well\n", *dir != '\0' ? "chroot" : "group",
            *dir != '\0' ? " and could leave the chroot" : "");
    return -1;
}

static int
enter_jail(const char *dir)
{
    size_t len = strlen(dir);

    if (len >= sizeof(jail)) {
        fprintf(stderr, "switchyard: chroot %s: path too long\n", dir);
        return -1;
    }
    if (chroot(dir) == -1 || chdir("/") == -1) {
        fprintf(stderr, "switchyard: chroot %s: %s\n", dir, strerror(errno));
        return -1;
    }
    memcpy(jail, dir, len + 1);
    while (len > 0 && jail[len - 1] == '/')
        jail[--len] = '\0';
    jailed = true;
    return 0;
}

static int
set_ids(const char *user, uint32_t uid, gid_t gid)
{
    if (setgroups(1, &gid) == -1 || setgid(gid) == -1) {
        fprintf(stderr, "switchyard: setgid %u: %s\n", (unsigned)gid, strerror(errno));
        return -1;
    }
    if (setuid(uid) == -1) {
        fprintf(stderr, "switchyard: setuid %s: %s\n", user, strerror(errno));
        return -1;
    }
    if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0) {
        fprintf(stderr, "switchyard: still root after dropping to '%s': refusing to run\n",
                user);
        return -1;
    }
    return 0;
}

int
sandbox_drop(const struct yt_table *t)
{
    const struct yt_global *g = &t->global;
    char *user = str_dup(t, g->user), *group = str_dup(t, g->group);
    char *dir = str_dup(t, g->chroot);
    uint32_t uid, gid;
    const char *why = NULL;
    int rc = -1;

    if (user == NULL || group == NULL || dir == NULL) {
        fprintf(stderr, "switchyard: out of memory\n");
        goto out;
    }
    if (*user == '\0' && *group == '\0' && *dir == '\0') {
        rc = 0;
        goto out;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "switchyard: not root: user, group and chroot left as they are\n");
        rc = 0;
        goto out;
    }
    if (check_user(user, group, dir) == -1)
        goto out;
    /* Before the chroot, from the files themselves: no NSS, so a static binary can. */
    if (pw_lookup_user("/etc/passwd", user, &uid, &gid, &why) == -1) {
        fprintf(stderr, "switchyard: unknown user '%s': /etc/passwd: %s\n", user, why);
        goto out;
    }
    if (*group != '\0' && pw_lookup_group("/etc/group", group, &gid, &why) == -1) {
        fprintf(stderr, "switchyard: unknown group '%s': /etc/group: %s\n", group, why);
        goto out;
    }
    if ((*dir != '\0' && enter_jail(dir) == -1) || set_ids(user, uid, (gid_t)gid) == -1)
        goto out;
    rc = 0;
out:
    free(user);
    free(group);
    free(dir);
    return rc;
}

/* The ids the process will run as after sandbox_drop(): `user` (and `group`) when root,
 * else its own. Returns 0, or -1 with *why set. */
static int
run_ids(const struct yt_table *t, uid_t *uid, gid_t *gid, const char **why)
{
    char *user = str_dup(t, t->global.user), *group = str_dup(t, t->global.group);
    uint32_t u, g;
    int rc = -1;

    *uid = geteuid();
    *gid = getegid();
    if (user == NULL || group == NULL) {
        *why = "out of memory";
    } else if (*user == '\0' || geteuid() != 0) {
        rc = 0;
    } else if (pw_lookup_user("/etc/passwd", user, &u, &g, why) == 0 &&
               (*group == '\0' || pw_lookup_group("/etc/group", group, &g, why) == 0)) {
        *uid = u;
        *gid = g;
        rc = 0;
    }
    free(user);
    free(group);
    return rc;
}

int
sandbox_make_dir(const struct yt_table *t, const char *file)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(file, '/'), *why = "";
    size_t len = slash != NULL ? (size_t)(slash - file) : 0;
    uid_t uid;
    gid_t gid;
    struct stat st;

    if (len == 0 || len >= sizeof(dir))
        return 0;
    memcpy(dir, file, len);
    dir[len] = '\0';
    if (stat(dir, &st) == 0)
        return 0;
    if (run_ids(t, &uid, &gid, &why) == -1) {
        fprintf(stderr, "switchyard: cannot create %s: user: %s\n", dir, why);
        return -1;
    }
    /* Each missing component, 0755; the last one belongs to the user the process runs
     * as once it has dropped its privileges, which removes its socket there at exit. */
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;

        *p = '\0';
        if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
            fprintf(stderr, "switchyard: cannot create the directory %s: %s\n", dir,
                    strerror(errno));
            return -1;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    if (geteuid() == 0 && uid != 0 && chown(dir, uid, gid) == -1) {
        fprintf(stderr, "switchyard: chown %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

const char *
sandbox_path(const char *path)
{
    size_t n = strlen(jail);

    if (!jailed)
        return path;
    if (path[0] != '/' || strncmp(path, jail, n) != 0 || path[n] != '/')
        return NULL;
    return path + n;
}

/* ---- the system call allow-list ---- */

/* What the running proxy calls: the event loop (epoll, the eventfd and handlers of its
 * signal watchers, the timeouts of epoll_wait), sockets and splice(2) for the relay, SCM_RIGHTS for the hand-over of
 * the listening sockets, the syslog socket's reconnect, sends to a UDP log target (its
 * socket opened before, connect(2) retried), malloc, the descriptor limit
 * (read only), the admin socket's removal at exit, and exit. Nothing opens a file, binds,
 * forks or executes. */
static const int allowed[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
    SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
    SCMP_SYS(splice), SCMP_SYS(pipe2), SCMP_SYS(close), SCMP_SYS(fcntl),
    SCMP_SYS(accept4), SCMP_SYS(connect), SCMP_SYS(shutdown),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_create1),        /* libev rebuilds its set on a stale event of a
                                     * descriptor shared with another process */
    SCMP_SYS(poll), SCMP_SYS(ppoll),
    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
    SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),          /* AddressSanitizer's handlers, at exit */
    SCMP_SYS(restart_syscall),
    SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(gettid),
    SCMP_SYS(getuid), SCMP_SYS(geteuid),  /* the admin socket: who may take the listeners */
    SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
    SCMP_SYS(unlink), SCMP_SYS(newfstatat),
    SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static bool relay_maps;             /* sandbox_allow_relay_maps() */

void
sandbox_allow_relay_maps(void)
{
    relay_maps = true;
}

/* bpf() on the maps made at start, and the socket queue sizes. */
static int
allow_relay_maps(scmp_filter_ctx ctx)
{
    static const int cmds[] = { BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM };
    static const unsigned long ioctls[] = { SIOCINQ, SIOCOUTQ };
    int rc = 0;

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        rc = rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
                                            SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]));
    for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
        rc = rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                            SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)ioctls[i]));
    return rc;
}

/* Allows syscall nr when its argument arg, masked, equals val. */
static int
allow_masked(scmp_filter_ctx ctx, int nr, unsigned arg, uint64_t mask, uint64_t val)
{
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                            (struct scmp_arg_cmp){ arg, SCMP_CMP_MASKED_EQ, mask, val });
}

static int
allow_socket(scmp_filter_ctx ctx, int domain, int type)
{
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                            SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)domain),
                            SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)type));
}

/* The calls allowed only with some arguments: TCP and UDP sockets to servers and the
 * syslog datagram socket; memory never executable; the descriptor limit read, never set; a
 * signal to the supervisor; abort(). */
static int
add_rules(scmp_filter_ctx ctx, pid_t parent)
{
    int rc = 0;

    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        rc = rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    rc = rc < 0 ? rc : allow_socket(ctx, AF_INET, SOCK_STREAM);
    rc = rc < 0 ? rc : allow_socket(ctx, AF_INET6, SOCK_STREAM);
    rc = rc < 0 ? rc : allow_socket(ctx, AF_INET6, SOCK_DGRAM);     /* quic: to servers */
    rc = rc < 0 ? rc : allow_socket(ctx, AF_UNIX, SOCK_DGRAM);
    rc = rc < 0 ? rc : allow_masked(ctx, SCMP_SYS(mmap), 2, PROT_EXEC, 0);
    rc = rc < 0 ? rc : allow_masked(ctx, SCMP_SYS(mprotect), 2, PROT_EXEC, 0);
    rc = rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
                                        SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
    rc = rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                                        SCMP_A2(SCMP_CMP_EQ, SIGABRT));
    if (relay_maps)
        rc = rc < 0 ? rc : allow_relay_maps(ctx);
    if (parent > 0)
        rc = rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 2,
                                            SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)parent),
                                            SCMP_A1(SCMP_CMP_EQ, SIGTERM));
    return rc;
}

int
sandbox_seccomp(pid_t parent)
{
    scmp_filter_ctx ctx;
    int rc;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
        fprintf(stderr, "switchyard: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
        return -1;
    }
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == NULL) {
        fprintf(stderr, "switchyard: seccomp: cannot set up the filter\n");
        return -1;
    }
    rc = add_rules(ctx, parent);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0) {
        fprintf(stderr, "switchyard: seccomp: cannot load the system call filter: %s\n",
                strerror(-rc));
        return -1;
    }
    return 0;
}
