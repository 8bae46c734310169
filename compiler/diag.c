#include "diag.h"

#include <stdarg.h>
#include <string.h>

static const char *const warning_names[DIAG_W_COUNT] = {
    [DIAG_W_SHADOWED] = "shadowed",
    [DIAG_W_UNUSED] = "unused",
    [DIAG_W_IGNORED] = "ignored",
};

void
diag_init(struct diag *d, struct arena *arena, FILE *out)
{
    memset(d, 0, sizeof(*d));
    d->arena = arena;
    d->out = out;
    for (int i = 0; i < DIAG_W_COUNT; i++)
        d->enabled[i] = true;
}

uint32_t
diag_add_source(struct diag *d, const char *name, const char *text, uint32_t len)
{
    struct diag_source *s;

    if (d->source_count == d->source_cap) {
        uint32_t cap = d->source_cap ? d->source_cap * 2 : 8;
        struct diag_source *n = arena_calloc(d->arena, cap, sizeof(*n));

        if (d->source_count)
            memcpy(n, d->sources, d->source_count * sizeof(*n));
        d->sources = n;
        d->source_cap = cap;
    }
    s = &d->sources[d->source_count];
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->text = text;
    s->len = len;
    return d->source_count++;
}

const struct diag_source *
diag_source(const struct diag *d, uint32_t src)
{
    return src < d->source_count ? &d->sources[src] : NULL;
}

const char *
diag_text(const struct diag *d, struct loc loc)
{
    const struct diag_source *s = diag_source(d, loc.src);

    return s != NULL ? s->text + loc.off : "";
}

bool
diag_set_warning(struct diag *d, const char *name, bool on)
{
    if (strcmp(name, "all") == 0) {
        for (int i = 0; i < DIAG_W_COUNT; i++)
            d->enabled[i] = on;
        return true;
    }
    for (int i = 0; i < DIAG_W_COUNT; i++) {
        if (strcmp(name, warning_names[i]) == 0) {
            d->enabled[i] = on;
            return true;
        }
    }
    return false;
}

const char *
diag_warning_name(enum diag_warning w)
{
    return (unsigned)w < DIAG_W_COUNT ? warning_names[w] : "?";
}

static void
build_lines(struct diag *d, struct diag_source *s)
{
    uint32_t n = 1;

    for (uint32_t i = 0; i < s->len; i++)
        n += s->text[i] == '\n';
    s->lines = arena_alloc(d->arena, (size_t)n * sizeof(uint32_t));
    s->lines[0] = 0;
    n = 1;
    for (uint32_t i = 0; i < s->len; i++)
        if (s->text[i] == '\n')
            s->lines[n++] = i + 1;
    s->line_count = n;
}

/* Index of the line holding off (0-based). */
static uint32_t
line_of(struct diag *d, struct diag_source *s, uint32_t off)
{
    uint32_t lo = 0, hi;

    if (s->lines == NULL)
        build_lines(d, s);
    hi = s->line_count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (s->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void
diag_line_col(struct diag *d, uint32_t src, uint32_t off, uint32_t *line, uint32_t *col)
{
    struct diag_source *s = src < d->source_count ? &d->sources[src] : NULL;
    uint32_t l;

    if (s == NULL) {
        *line = *col = 0;
        return;
    }
    if (off > s->len)
        off = s->len;
    l = line_of(d, s, off);
    *line = l + 1;
    *col = off - s->lines[l] + 1;
}

static void
print_caret(struct diag *d, struct loc loc)
{
    struct diag_source *s = &d->sources[loc.src];
    uint32_t off = loc.off > s->len ? s->len : loc.off;
    uint32_t l = line_of(d, s, off);
    uint32_t start = s->lines[l], end = start;
    uint32_t stop;

    while (end < s->len && s->text[end] != '\n')
        end++;
    /* A CRLF file keeps its CR out of the printed line. */
    stop = end > start && s->text[end - 1] == '\r' ? end - 1 : end;
    fwrite(s->text + start, 1, stop - start, d->out);
    fputc('\n', d->out);
    for (uint32_t i = start; i < off; i++)
        fputc(s->text[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    for (uint32_t i = off + 1; i < off + loc.len && i < stop; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

static void emit(struct diag *d, struct loc loc, const char *severity, const char *suffix,
                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void
emit(struct diag *d, struct loc loc, const char *severity, const char *suffix,
     const char *fmt, va_list ap)
{
    if (d->out == NULL)
        return;
    if (loc.src < d->source_count) {
        uint32_t line, col;

        diag_line_col(d, loc.src, loc.off, &line, &col);
        fprintf(d->out, "%s:%u:%u: %s: ", d->sources[loc.src].name, line, col, severity);
    } else {
        fprintf(d->out, "yardc: %s: ", severity);
    }
    vfprintf(d->out, fmt, ap);
    if (suffix != NULL)
        fprintf(d->out, " %s", suffix);
    fputc('\n', d->out);
    if (loc.src < d->source_count)
        print_caret(d, loc);
}

static void
count_error(struct diag *d)
{
    if (++d->errors == DIAG_MAX_ERRORS)
        d->stopped = true;
}

void
diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
{
    va_list ap;

    d->last_shown = false;
    if (d->stopped)
        return;
    va_start(ap, fmt);
    emit(d, loc, "error", NULL, fmt, ap);
    va_end(ap);
    d->last_shown = true;
    count_error(d);
}

bool
diag_warning(struct diag *d, enum diag_warning w, struct loc loc, const char *fmt, ...)
{
    char suffix[64];
    va_list ap;

    d->last_shown = false;
    if ((unsigned)w >= DIAG_W_COUNT || !d->enabled[w] || d->stopped)
        return false;
    snprintf(suffix, sizeof(suffix), d->werror ? "[-Werror=%s]" : "[-W%s]", warning_names[w]);
    va_start(ap, fmt);
    emit(d, loc, d->werror ? "error" : "warning", suffix, fmt, ap);
    va_end(ap);
    d->last_shown = true;
    if (d->werror)
        count_error(d);
    else
        d->warnings++;
    return true;
}

void
diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
{
    va_list ap;

    if (!d->last_shown)
        return;
    va_start(ap, fmt);
    emit(d, loc, "note", NULL, fmt, ap);
    va_end(ap);
}

bool
diag_is_stopped(const struct diag *d)
{
    return d->stopped;
}

void
diag_finish(struct diag *d)
{
    if (d->stopped && d->out != NULL)
        fprintf(d->out, "yardc: too many errors, stopping after %d\n", DIAG_MAX_ERRORS);
    if (d->out != NULL)
        fflush(d->out);
}
