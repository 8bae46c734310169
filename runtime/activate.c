#include "activate.h"

#include <stdbool.h>
#include <string.h>

/* A decimal number without sign or spaces, at most max, from s[0 .. len). */
static bool
number(const char *s, size_t len, long max, long *out)
{
    long v = 0;

    if (len == 0 || len > 18)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

int
activate_parse(const char *listen_pid, const char *listen_fds, long self, size_t cap,
               size_t *count, const char **why)
{
    long pid, n;

    *count = 0;
    if (listen_pid == NULL || listen_fds == NULL)
        return 0;
    if (!number(listen_pid, strlen(listen_pid), 0x7fffffffL, &pid)) {
        *why = "LISTEN_PID is not a process id";
        return -1;
    }
    if (pid != self)
        return 0;
    if (!number(listen_fds, strlen(listen_fds), 0x7fffffffL, &n)) {
        *why = "LISTEN_FDS is not a number";
        return -1;
    }
    if ((size_t)n > cap) {
        *why = "LISTEN_FDS: too many sockets";
        return -1;
    }
    *count = (size_t)n;
    return 0;
}

const char *
activate_name(const char *names, size_t i, size_t *len)
{
    const char *p = names, *end;

    if (p == NULL)
        return NULL;
    for (; i > 0; i--) {
        p = strchr(p, ':');
        if (p == NULL)
            return NULL;
        p++;
    }
    end = strchr(p, ':');
    *len = end != NULL ? (size_t)(end - p) : strlen(p);
    return p;
}

long
activate_list(const char *s, long min, long max, long *out, size_t cap)
{
    size_t n = 0;

    if (*s == '\0')
        return 0;
    for (;;) {
        const char *end = strchr(s, ',');
        size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
        long v;

        if (n == cap || !number(s, len, max, &v) || v < min)
            return -1;
        out[n++] = v;
        if (end == NULL)
            return (long)n;
        s = end + 1;
    }
}
