/* The system call filter: what the running proxy does passes, anything else kills the
 * process with SIGSYS; the paths reachable from inside the chroot; `chroot` or `group`
 * without `user` refused as root. Each case runs in a child process, since a filter
 * cannot be removed once loaded. */
#include "sandbox.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs fn in a child under the filter (parent: the pid it may send SIGTERM to); returns
 * the child's wait status. fn's return value is the child's exit status. */
static int
filtered(int (*fn)(void), pid_t parent)
{
    pid_t pid = fork();
    int st = -1;

    if (pid == 0) {
        if (sandbox_seccomp(parent) == -1)
            _exit(100);
        _exit(fn());
    }
    if (pid == -1 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static bool
killed_by_sigsys(int st)
{
    return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

/* What a worker does once running: pipes and splice, sockets to servers, the syslog
 * socket, memory, time, its own pid, the descriptor limit. */
static int
relay_calls(void)
{
    int p[2], q[2], s4, s6, u, flags;
    struct timespec ts;
    struct rlimit rl;
    void *m;
    char c = 'x';

    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1 || pipe2(q, O_NONBLOCK | O_CLOEXEC) == -1)
        return 1;
    if (write(p[1], &c, 1) != 1 || splice(p[0], NULL, q[1], NULL, 1, SPLICE_F_NONBLOCK) != 1 ||
        read(q[0], &c, 1) != 1 || c != 'x')
        return 2;
    s4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    u = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s4 == -1 || s6 == -1 || u == -1)
        return 3;
    flags = 1;
    if (setsockopt(s6, SOL_SOCKET, SO_KEEPALIVE, &flags, sizeof(flags)) == -1)
        return 4;
    m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || munmap(m, 1 << 20) == -1)
        return 5;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 || getpid() <= 0 ||
        getrlimit(RLIMIT_NOFILE, &rl) == -1 || fcntl(p[0], F_GETPIPE_SZ) <= 0)
        return 6;
    close(s4);
    close(s6);
    close(u);
    return 0;
}

static void
test_sandbox_allows_the_relay(void)
{
    int st = filtered(relay_calls, 0);

    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int
open_a_file(void)
{
    return open("/etc/hostname", O_RDONLY) == -1 ? 1 : 0;
}

static int
run_a_shell(void)
{
    char *const argv[] = { "sh", "-c", "exit 7", NULL };

    execve("/bin/sh", argv, NULL);
    return 1;
}

static int
raw_socket(void)
{
    return socket(AF_INET, SOCK_RAW, 1) == -1 ? 1 : 0;
}

static int
netlink_socket(void)
{
    return socket(AF_NETLINK, SOCK_DGRAM, 0) == -1 ? 1 : 0;
}

static int
executable_memory(void)
{
    void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return m == MAP_FAILED ? 1 : 0;
}

static int
raise_limit(void)
{
    struct rlimit rl = { 1 << 20, 1 << 20 };

    return setrlimit(RLIMIT_NOFILE, &rl) == -1 ? 1 : 0;
}

static int
signal_init(void)
{
    return kill(1, SIGTERM) == -1 ? 1 : 0;
}

static int
signal_parent_usr1(void)
{
    return kill(getppid(), SIGUSR1) == -1 ? 1 : 0;
}

static int
start_a_process(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    return pid == -1 ? 1 : 0;
}

static int
listen_anew(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);

    return fd == -1 || listen(fd, 1) == -1 ? 1 : 0;
}

static void
test_sandbox_kills_the_rest(void)
{
    CU_ASSERT(killed_by_sigsys(filtered(open_a_file, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(run_a_shell, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(raw_socket, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(netlink_socket, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(executable_memory, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(raise_limit, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(signal_init, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(start_a_process, 0)));
    CU_ASSERT(killed_by_sigsys(filtered(listen_anew, 0)));
}

/* A worker may send its supervisor SIGTERM, nothing else, and nothing to anyone else. */
static int
signal_parent_term(void)
{
    return kill(getppid(), SIGTERM) == -1 ? 1 : 0;
}

static void
test_sandbox_signals_only_the_supervisor(void)
{
    pid_t mid = fork();
    int st = -1;

    if (mid == 0) {
        /* The middle process stands for the supervisor: it sees its child's SIGTERM. */
        struct sigaction sa = { .sa_handler = SIG_IGN };
        sigset_t set;
        int sig = 0, cst = -1;

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigaction(SIGUSR1, &sa, NULL);
        cst = filtered(signal_parent_term, getpid());
        if (!WIFEXITED(cst) || WEXITSTATUS(cst) != 0 || sigwait(&set, &sig) != 0 ||
            sig != SIGTERM)
            _exit(1);
        cst = filtered(signal_parent_usr1, getpid());
        _exit(killed_by_sigsys(cst) ? 0 : 2);
    }
    CU_ASSERT_FATAL(mid != -1 && waitpid(mid, &st, 0) == mid);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_sandbox_path_before_chroot(void)
{
    CU_ASSERT_STRING_EQUAL(sandbox_path("/run/switchyard/admin.sock"),
                           "/run/switchyard/admin.sock");
    CU_ASSERT_STRING_EQUAL(sandbox_path("admin.sock"), "admin.sock");
}

/* A table with only its global block set: user, group and chroot from blob. */
static struct yt_table
table_with(const char *blob, uint32_t user, uint32_t group, uint32_t chroot_dir)
{
    struct yt_table t = { .blob = blob };

    t.global.user = (struct yt_str){ 0, user };
    t.global.group = (struct yt_str){ user, group };
    t.global.chroot = (struct yt_str){ user + group, chroot_dir };
    return t;
}

#define JAIL "/tmp/switchyard-unit-sandbox-jail"

static int
jail_paths(void)
{
    static const char blob[] = "nobody" JAIL "/";
    struct yt_table t = table_with(blob, 6, 0, sizeof(JAIL));

    if (sandbox_drop(&t) == -1)
        return 1;
    const char *inner = sandbox_path(JAIL "/dev/log");

    if (inner == NULL || strcmp(inner, "/dev/log") != 0)
        return 2;
    if (sandbox_path(JAIL "x/dev/log") != NULL || sandbox_path("/dev/log") != NULL ||
        sandbox_path("dev/log") != NULL || sandbox_path(JAIL) != NULL)
        return 3;
    return geteuid() == 0 ? 4 : 0;
}

static int
in_child(int (*fn)(void))
{
    pid_t pid = fork();
    int st = -1;

    if (pid == 0)
        _exit(fn());
    if (pid == -1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static void
test_sandbox_path_inside_chroot(void)
{
    if (geteuid() != 0) {
        printf("SKIP (not root: no chroot) ");
        return;
    }
    CU_ASSERT_FATAL(mkdir(JAIL, 0755) == 0 || errno == EEXIST);
    CU_ASSERT_EQUAL(in_child(jail_paths), 0);
    rmdir(JAIL);
}

static int
drop_without_user(void)
{
    static const char blob[] = "nogroup" JAIL;
    struct yt_table group_only = table_with(blob, 0, 7, 0);
    struct yt_table chroot_only = table_with(blob + 7, 0, 0, sizeof(JAIL) - 1);

    return (sandbox_drop(&group_only) == -1 ? 0 : 1) | (sandbox_drop(&chroot_only) == -1 ? 0 : 2);
}

static void
test_sandbox_root_needs_user(void)
{
    if (geteuid() != 0) {
        printf("SKIP (not root) ");
        return;
    }
    CU_ASSERT_FATAL(mkdir(JAIL, 0755) == 0 || errno == EEXIST);
    CU_ASSERT_EQUAL(in_child(drop_without_user), 0);
    rmdir(JAIL);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "the filter allows the relay's calls", test_sandbox_allows_the_relay },
        { "the filter kills anything else", test_sandbox_kills_the_rest },
        { "only SIGTERM, only to the supervisor", test_sandbox_signals_only_the_supervisor },
        { "paths before chroot", test_sandbox_path_before_chroot },
        { "paths inside the chroot", test_sandbox_path_inside_chroot },
        { "root: group or chroot needs user", test_sandbox_root_needs_user },
    };

    return UNIT_RUN("sandbox", tests);
}
