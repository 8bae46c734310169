#include "passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
pw_parse_id(const char *s, size_t len, uint32_t *id)
{
    uint64_t v = 0;

    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v >= UINT32_MAX)             /* (uid_t)-1 means "unchanged" to setuid() and friends */
        return -1;
    *id = (uint32_t)v;
    return 0;
}

/* Splits line[0 .. len) at ':' into at most max fields; returns how many. */
static size_t
split(const char *line, size_t len, const char **field, size_t *flen, size_t max)
{
    size_t n = 0, start = 0;

    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || line[i] == ':') {
            field[n] = line + start;
            flen[n++] = i - start;
            start = i + 1;
        }
    }
    return n;
}

/* The first line whose first field is name and whose fields want .. want + count - 1 are
 * ids; 0 and ids[], or -1. */
static int
find(const char *text, size_t len, const char *name, size_t want, size_t count, uint32_t *ids)
{
    size_t name_len = strlen(name), off = 0;

    if (name_len == 0 || memchr(name, ':', name_len) != NULL)
        return -1;
    while (off < len) {
        const char *line = text + off, *nl = memchr(line, '\n', len - off);
        size_t line_len = nl != NULL ? (size_t)(nl - line) : len - off, flen[4], n;
        const char *field[4];
        bool ok = true;

        off += line_len + 1;
        if (line_len == 0 || line[0] == '+' || line[0] == '-')
            continue;
        n = split(line, line_len, field, flen, 4);
        if (n < want + count || flen[0] != name_len || memcmp(field[0], name, name_len) != 0)
            continue;
        for (size_t i = 0; i < count && ok; i++)
            ok = pw_parse_id(field[want + i], flen[want + i], &ids[i]) == 0;
        if (ok)
            return 0;
    }
    return -1;
}

int
pw_find_user(const char *text, size_t len, const char *name, uint32_t *uid, uint32_t *gid)
{
    uint32_t ids[2];

    if (find(text, len, name, 2, 2, ids) == -1)
        return -1;
    *uid = ids[0];
    *gid = ids[1];
    return 0;
}

int
pw_find_group(const char *text, size_t len, const char *name, uint32_t *gid)
{
    return find(text, len, name, 2, 1, gid);
}

/* The whole file at path, NUL-terminated in *text; 0, or -1 with errno (EFBIG: too large). */
static int
slurp(const char *path, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), err;
    struct stat st;
    size_t n = 0;
    ssize_t r = 0;
    char *buf = NULL;

    if (fd == -1)
        return -1;
    if (fstat(fd, &st) == -1)
        goto fail;
    errno = (uint64_t)st.st_size > PW_FILE_MAX ? EFBIG : ENOMEM;
    if ((uint64_t)st.st_size > PW_FILE_MAX || (buf = malloc((size_t)st.st_size + 1)) == NULL)
        goto fail;
    while (n < (size_t)st.st_size) {
        r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (r == -1)
        goto fail;
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
fail:
    err = errno;
    free(buf);
    close(fd);
    errno = err;
    return -1;
}

/* Looks name up in the file at path (want, count as find()), else takes it as a number. */
static int
lookup(const char *path, const char *name, size_t count, uint32_t *ids, const char **why)
{
    char *text = NULL;
    size_t len = 0;
    int rc = -1;

    if (slurp(path, &text, &len) == -1 && errno != ENOENT) {
        *why = errno == EFBIG ? "file too large" : strerror(errno);
        return -1;
    }
    if (text != NULL)
        rc = find(text, len, name, 2, count, ids);
    free(text);
    if (rc == -1 && pw_parse_id(name, strlen(name), &ids[0]) == 0) {
        ids[count - 1] = ids[0];
        rc = 0;
    }
    if (rc == -1)
        *why = "no such name, and not a number";
    return rc;
}

int
pw_lookup_user(const char *path, const char *name, uint32_t *uid, uint32_t *gid,
               const char **why)
{
    uint32_t ids[2];

    if (lookup(path, name, 2, ids, why) == -1)
        return -1;
    *uid = ids[0];
    *gid = ids[1];
    return 0;
}

int
pw_lookup_group(const char *path, const char *name, uint32_t *gid, const char **why)
{
    return lookup(path, name, 1, gid, why);
}
