#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_MSG_MAX 512

static int notify_fd = -1;

int
notify_open(void)
{
    const char *name = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len;
    socklen_t salen;

    if (name == NULL || name[0] == '\0')
        return 0;
    len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len >= sizeof(sa.sun_path)) {
        fprintf(stderr, "switchyard: NOTIFY_SOCKET=%s: not a socket path or @name\n", name);
        return -1;
    }
    memcpy(sa.sun_path, name, len);
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';      /* abstract: no terminating NUL counted */
    else
        salen++;
    notify_close();
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (notify_fd == -1 || connect(notify_fd, (struct sockaddr *)&sa, salen) == -1) {
        fprintf(stderr, "switchyard: NOTIFY_SOCKET=%s: %s\n", name, strerror(errno));
        notify_close();
        return -1;
    }
    return 0;
}

bool
notify_is_on(void)
{
    return notify_fd != -1;
}

static void
send_msg(const char *msg, size_t len)
{
    while (send(notify_fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 && errno == EINTR)
        ;
}

void
notify_send(const char *fmt, ...)
{
    char msg[NOTIFY_MSG_MAX];
    va_list ap;
    int n;

    if (notify_fd == -1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n > 0)
        send_msg(msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

void
notify_reloading(const char *status)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    notify_send("RELOADING=1\nSTATUS=%s\nMONOTONIC_USEC=%llu", status,
                (unsigned long long)ts.tv_sec * 1000000ull +
                    (unsigned long long)ts.tv_nsec / 1000u);
}

void
notify_close(void)
{
    if (notify_fd != -1)
        close(notify_fd);
    notify_fd = -1;
}
