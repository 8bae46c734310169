#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hacfg.h"
#include "parse.h"

struct load_file {
    dev_t dev;
    ino_t ino;
    bool open;                          /* being parsed: including it again is a cycle */
    uint32_t src;
};

char *
load_resolve(struct arena *arena, const char *base, const char *rel)
{
    const char *slash = strrchr(base, '/');

    if (rel[0] == '/' || slash == NULL)
        return arena_strdup(arena, rel);
    return arena_printf(arena, "%.*s/%s", (int)(slash - base), base, rel);
}

int
load_read_file(struct arena *arena, const char *path, char **text, uint32_t *len,
               struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    size_t got = 0, cap;
    char *buf;

    if (fd == -1)
        return -1;
    if (fstat(fd, st) == -1)
        goto fail;
    if (S_ISDIR(st->st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        errno = EINVAL;             /* a FIFO or device could block or never end */
        goto fail;
    }
    if ((uint64_t)st->st_size >= LOAD_MAX_FILE) {
        errno = EFBIG;
        goto fail;
    }
    cap = (size_t)st->st_size;
    buf = arena_alloc(arena, cap + 1);
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);

        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            goto fail;
        if (n == 0)
            break;                  /* shrank while we read: take what is there */
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *text = buf;
    *len = (uint32_t)got;
    return 0;
fail:;
    int e = errno;

    close(fd);
    errno = e;
    return -1;
}

static struct load_file *
find_file(struct load *l, const struct stat *st)
{
    for (uint32_t i = 0; i < l->file_count; i++)
        if (l->files[i].dev == st->st_dev && l->files[i].ino == st->st_ino)
            return &l->files[i];
    return NULL;
}

static struct load_file *
add_file(struct load *l, const struct stat *st, uint32_t src)
{
    struct load_file *f;

    if (l->file_count == l->file_cap) {
        uint32_t cap = l->file_cap ? l->file_cap * 2 : 8;
        struct load_file *n = arena_calloc(l->arena, cap, sizeof(*n));

        if (l->file_count)
            memcpy(n, l->files, l->file_count * sizeof(*n));
        l->files = n;
        l->file_cap = cap;
    }
    f = &l->files[l->file_count++];
    f->dev = st != NULL ? st->st_dev : 0;
    f->ino = st != NULL ? st->st_ino : 0;
    f->src = src;
    f->open = true;
    return f;
}

static void parse_and_follow(struct load *l, uint32_t src, uint32_t file, unsigned depth);

static bool
has_glob_magic(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static void
follow_include(struct load *l, const struct ast_include *inc, unsigned depth)
{
    const struct diag_source *from = diag_source(l->diag, inc->pattern.src);
    size_t plen;
    char *pattern = ast_string(l->arena, l->diag, inc->pattern, &plen);
    char *path;
    glob_t g;
    int rc;

    if (plen == 0 || strlen(pattern) != plen) {
        diag_error(l->diag, inc->pattern, "include needs a file name or pattern");
        return;
    }
    if (!l->allow_fs) {
        diag_error(l->diag, inc->pattern, "cannot include '%s': file access is disabled",
                   pattern);
        return;
    }
    if (depth >= LOAD_MAX_DEPTH) {
        diag_error(l->diag, inc->kw, "includes nested more than %d deep", LOAD_MAX_DEPTH);
        return;
    }
    path = load_resolve(l->arena, from->name, pattern);
    memset(&g, 0, sizeof(g));
    rc = glob(path, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        if (has_glob_magic(pattern))
            diag_error(l->diag, inc->pattern, "no file matches '%s'", path);
        else
            diag_error(l->diag, inc->pattern, "cannot read '%s': %s", path,
                       strerror(ENOENT));
        globfree(&g);
        return;
    }
    if (rc != 0) {
        diag_error(l->diag, inc->pattern, "cannot expand '%s': %s", path,
                   rc == GLOB_NOSPACE ? "out of memory" : "read error");
        globfree(&g);
        return;
    }
    /* glob() sorts its matches (in the C locale: by bytes), so the order of files does
     * not depend on the directory. */
    for (size_t i = 0; i < g.gl_pathc && !diag_is_stopped(l->diag); i++) {
        const char *name = arena_strdup(l->arena, g.gl_pathv[i]);
        struct load_file *f;
        struct stat st;
        char *text;
        uint32_t len, src;

        if (stat(name, &st) == 0 && (f = find_file(l, &st)) != NULL) {
            if (f->open)
                diag_error(l->diag, inc->pattern,
                           "include cycle: '%s' is already being read", name);
            continue;               /* each file is read once */
        }
        if (load_read_file(l->arena, name, &text, &len, &st) == -1) {
            diag_error(l->diag, inc->pattern, "cannot read '%s': %s", name, strerror(errno));
            continue;
        }
        src = diag_add_source(l->diag, name, text, len);
        add_file(l, &st, src);
        parse_and_follow(l, src, l->file_count - 1, depth + 1);
    }
    globfree(&g);
}

/* An HAProxy file given to yardc gets one clear error instead of a syntax error per
 * line. */
static bool
is_haproxy(struct load *l, uint32_t src)
{
    const struct diag_source *s = diag_source(l->diag, src);
    size_t at, len;

    if (!hacfg_looks_like(s->text, s->len, &at, &len))
        return false;
    diag_error(l->diag, (struct loc){ src, (uint32_t)at, (uint32_t)len },
               "this looks like an HAProxy configuration; translate it with "
               "'yardc import %s'", s->name);
    l->syntax_errors++;
    return true;
}

static void
parse_and_follow(struct load *l, uint32_t src, uint32_t file, unsigned depth)
{
    struct ast_include *inc;

    if (is_haproxy(l, src)) {
        l->files[file].open = false;
        return;
    }
    l->syntax_errors += parse_source(l->tree_arena != NULL ? l->tree_arena : l->arena, l->diag,
                                     l->ast, src, &inc);
    for (; inc != NULL && !diag_is_stopped(l->diag); inc = inc->next)
        follow_include(l, inc, depth);
    l->files[file].open = false;
}

int
load_config(struct load *l, const char *name, const char *data, size_t len)
{
    struct stat st;
    char *text;
    uint32_t n, src;

    if (data != NULL) {
        if (len >= LOAD_MAX_FILE) {
            diag_error(l->diag, (struct loc){ .src = DIAG_NO_SOURCE }, "%s: file too big",
                       name);
            return -1;
        }
        text = arena_alloc(l->arena, len + 1);
        memcpy(text, data, len);
        text[len] = '\0';
        src = diag_add_source(l->diag, name, text, (uint32_t)len);
        add_file(l, NULL, src);
    } else {
        if (load_read_file(l->arena, name, &text, &n, &st) == -1) {
            diag_error(l->diag, (struct loc){ .src = DIAG_NO_SOURCE }, "cannot read '%s': %s",
                       name, strerror(errno));
            return -1;
        }
        src = diag_add_source(l->diag, name, text, n);
        add_file(l, &st, src);
    }
    parse_and_follow(l, src, l->file_count - 1, 0);
    return 0;
}

int64_t
load_file_at(struct load *l, struct loc at, const char *what)
{
    const struct diag_source *from = diag_source(l->diag, at.src);
    size_t plen;
    char *rel = ast_string(l->arena, l->diag, at, &plen);
    char *path, *text;
    struct stat st;
    uint32_t len;

    if (plen == 0 || strlen(rel) != plen) {
        diag_error(l->diag, at, "%s needs a file name", what);
        return -1;
    }
    if (!l->allow_fs) {
        diag_error(l->diag, at, "cannot read %s '%s': file access is disabled", what, rel);
        return -1;
    }
    path = load_resolve(l->arena, from->name, rel);
    if (load_read_file(l->arena, path, &text, &len, &st) == -1) {
        diag_error(l->diag, at, "cannot read %s '%s': %s", what, path, strerror(errno));
        return -1;
    }
    return diag_add_source(l->diag, path, text, len);
}
