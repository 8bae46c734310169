/* svcman: the two parts of a service manager the proxy talks to, for the e2e tests
 * (tests/e2e/proc_service.sh), on a machine without systemd.
 *
 *   svcman notify PATH [-t SECONDS]
 *       binds a unix datagram socket at PATH ("@name": abstract), as $NOTIFY_SOCKET names
 *       it, and prints each datagram received as one line: "pid=SENDER " then the message
 *       with its newlines turned into spaces. Exits after SECONDS (default 120) or on
 *       SIGTERM.
 *   svcman listen [-l ADDR:PORT[=NAME]]... [-u] -- COMMAND [ARG...]
 *       binds and listens on each ADDR:PORT ("127.0.0.1:80", "[::1]:443"; an IPv6
 *       address other than [::] gets IPV6_V6ONLY, as systemd's BindIPv6Only=default
 *       does), moves the sockets to descriptors 3, 4, ... in that order, sets
 *       LISTEN_PID to its own pid, LISTEN_FDS to their count and LISTEN_FDNAMES to their
 *       names (NAME, or "unknown" as systemd's default), then executes COMMAND, which
 *       keeps the pid. With -u, a UDP socket instead of the next TCP one.
 *
 * Exit 2 on usage or set-up errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SOCKS_MAX 32

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int
usage(void)
{
    fprintf(stderr, "usage: svcman notify PATH [-t SECONDS]\n"
                    "       svcman listen [-l ADDR:PORT[=NAME]]... [-u] -- COMMAND [ARG...]\n");
    return 2;
}

static int
cmd_notify(int argc, char **argv)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *path = argc > 0 ? argv[0] : NULL;
    int secs = 120, one = 1, fd;
    socklen_t len;

    if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
        return usage();
    if (argc == 3 && strcmp(argv[1], "-t") == 0)
        secs = atoi(argv[2]);
    else if (argc != 1)
        return usage();
    memcpy(sa.sun_path, path, strlen(path));
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    else
        unlink(path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1 || bind(fd, (struct sockaddr *)&sa, len) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
        fprintf(stderr, "svcman: %s: %s\n", path, strerror(errno));
        return 2;
    }
    struct sigaction act = { .sa_handler = on_term };

    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGALRM, &act, NULL);
    alarm((unsigned)secs);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    while (!stop) {
        char buf[4096];
        union {
            char b[CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                            .msg_controllen = sizeof(ctl.b) };
        ssize_t n = recvmsg(fd, &m, 0);
        long pid = 0;

        if (n == -1)
            continue;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                struct ucred cr;

                memcpy(&cr, CMSG_DATA(c), sizeof(cr));
                pid = cr.pid;
            }
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                buf[i] = ' ';
        buf[n] = '\0';
        printf("pid=%ld %s\n", pid, buf);
    }
    if (path[0] != '@')
        unlink(path);
    return 0;
}

/* "127.0.0.1:80" or "[::1]:443" into a; the name after '=' into *name. */
static int
parse_addr(char *s, struct sockaddr_storage *a, socklen_t *len, char **name)
{
    char *eq = strchr(s, '='), *colon;
    struct sockaddr_in *in4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;

    *name = "unknown";
    if (eq != NULL) {
        *eq = '\0';
        *name = eq + 1;
    }
    colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    *colon = '\0';
    memset(a, 0, sizeof(*a));
    if (s[0] == '[' && colon[-1] == ']') {
        colon[-1] = '\0';
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)atoi(colon + 1));
        *len = sizeof(*in6);
        return inet_pton(AF_INET6, s + 1, &in6->sin6_addr) == 1 ? 0 : -1;
    }
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)atoi(colon + 1));
    *len = sizeof(*in4);
    return inet_pton(AF_INET, s, &in4->sin_addr) == 1 ? 0 : -1;
}

static int
open_socket(char *spec, bool udp, char **name)
{
    struct sockaddr_storage a;
    socklen_t len;
    int one = 1, fd;

    if (parse_addr(spec, &a, &len, name) == -1) {
        fprintf(stderr, "svcman: bad address '%s'\n", spec);
        return -1;
    }
    fd = socket(a.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
        return -1;
    if (a.ss_family == AF_INET6) {
        int v6only = !IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&a)->sin6_addr);

        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (bind(fd, (struct sockaddr *)&a, len) == -1 || (!udp && listen(fd, 4096) == -1)) {
        fprintf(stderr, "svcman: bind %s: %s\n", spec, strerror(errno));
        return -1;
    }
    return fd;
}

static int
cmd_listen(int argc, char **argv)
{
    int fds[SOCKS_MAX], n = 0, i;
    char names[SOCKS_MAX * 64] = "", num[32];
    bool udp = false;

    for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        char *name;

        if (strcmp(argv[i], "-u") == 0) {
            udp = true;
            continue;
        }
        if (strcmp(argv[i], "-l") != 0 || i + 1 >= argc || n == SOCKS_MAX)
            return usage();
        fds[n] = open_socket(argv[++i], udp, &name);
        if (fds[n] == -1)
            return 2;
        udp = false;
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                 n > 0 ? ":" : "", name);
        n++;
    }
    if (i + 1 >= argc)
        return usage();
    /* Above every target first, so that moving one never overwrites another. */
    for (int k = 0; k < n; k++) {
        int high = fcntl(fds[k], F_DUPFD, 100);

        close(fds[k]);
        fds[k] = high;
    }
    for (int k = 0; k < n; k++) {
        if (dup2(fds[k], 3 + k) == -1)
            return 2;
        close(fds[k]);
    }
    snprintf(num, sizeof(num), "%d", (int)getpid());
    setenv("LISTEN_PID", num, 1);
    snprintf(num, sizeof(num), "%d", n);
    setenv("LISTEN_FDS", num, 1);
    setenv("LISTEN_FDNAMES", names, 1);
    execvp(argv[i + 1], argv + i + 1);
    fprintf(stderr, "svcman: %s: %s\n", argv[i + 1], strerror(errno));
    return 2;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "notify") == 0)
        return cmd_notify(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "listen") == 0)
        return cmd_listen(argc - 2, argv + 2);
    return usage();
}
