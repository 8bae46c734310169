/* Makes a running process call execve("/bin/sh") itself, for the e2e tests of the system
 * call filter (tests/e2e/proc_sandbox.sh, proc_workers.sh).
 *
 *   inject PID
 *       attaches with ptrace while PID waits in a system call (its event loop's
 *       epoll_wait), points it at that `syscall` instruction again with execve's number and
 *       arguments (the path written below its stack pointer, no argv, no environment), lets
 *       it go and waits: prints "signal=N" when the process was killed by signal N,
 *       "exit=N" when it ended otherwise (the shell ran), "errno=E" when the call failed. Its registers are not restored: use it only on a process that
 *       is meant to die of it.
 *
 * x86-64 only; elsewhere prints "unsupported" and exits 3. Exit 0 once an outcome is
 * printed, 2 on set-up errors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)

static const char path[16] = "/bin/sh";

/* Stops pid (PTRACE_SEIZE + PTRACE_INTERRUPT) until it sits right after a `syscall`
 * instruction (0f 05), which it does while blocked in epoll_wait. */
static int
stop_in_syscall(pid_t pid, struct user_regs_struct *r)
{
    for (int tries = 0; tries < 50; tries++) {
        int st;
        long text;

        if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1 || waitpid(pid, &st, __WALL) != pid ||
            !WIFSTOPPED(st) || ptrace(PTRACE_GETREGS, pid, 0, r) == -1)
            return -1;
        errno = 0;
        text = ptrace(PTRACE_PEEKTEXT, pid, r->rip - 2, 0);
        if (errno == 0 && (text & 0xffff) == 0x050f)
            return 0;
        ptrace(PTRACE_CONT, pid, 0, 0);
        usleep(20000);
    }
    errno = EAGAIN;
    return -1;
}

static int
inject(pid_t pid)
{
    struct user_regs_struct r;
    unsigned long at;
    long word;
    int st, stops = 0;

    if (ptrace(PTRACE_SEIZE, pid, 0, 0) == -1 || stop_in_syscall(pid, &r) == -1) {
        perror("inject: ptrace");
        return 2;
    }
    at = (r.rsp - 512) & ~15ul;     /* below the red zone */
    for (size_t i = 0; i < sizeof(path); i += sizeof(word)) {
        memcpy(&word, path + i, sizeof(word));
        if (ptrace(PTRACE_POKEDATA, pid, at + i, word) == -1) {
            perror("inject: poke");
            return 2;
        }
    }
    r.rip -= 2;
    r.orig_rax = (unsigned long)-1; /* not in a system call: no restart on resume */
    r.rax = SYS_execve;
    r.rdi = at;
    r.rsi = 0;
    r.rdx = 0;
    if (ptrace(PTRACE_SETREGS, pid, 0, &r) == -1 ||
        ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD) == -1 ||
        ptrace(PTRACE_SYSCALL, pid, 0, 0) == -1) {
        perror("inject: resume");
        return 2;
    }
    /* Stops at the call's entry and exit, unless it is killed in between. */
    for (;;) {
        if (waitpid(pid, &st, __WALL) != pid) {
            perror("inject: waitpid");
            return 2;
        }
        if (WIFSIGNALED(st)) {
            printf("signal=%d\n", WTERMSIG(st));
            return 0;
        }
        if (WIFEXITED(st)) {
            printf("exit=%d\n", WEXITSTATUS(st));
            return 0;
        }
        if (ptrace(PTRACE_GETREGS, pid, 0, &r) == -1)
            return 2;
        /* Syscall stops: the exit of the interrupted epoll_wait, then execve's entry, then
         * its exit with the result when it failed. */
        if (WSTOPSIG(st) == (SIGTRAP | 0x80) && ++stops == 3 && (long)r.rax < 0) {
            printf("errno=%ld\n", -(long)r.rax);
            return 0;
        }
        ptrace(PTRACE_SYSCALL, pid, 0, 0);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: inject PID\n");
        return 2;
    }
    return inject((pid_t)atoi(argv[1]));
}

#else

int
main(void)
{
    printf("unsupported\n");
    return 3;
}

#endif
