#include "hacfg.h"

#include <string.h>

#include "ast.h"

static const char *const sections[] = {
    "global", "defaults", "frontend", "backend", "listen", "userlist", "peers", "resolvers",
    "mailers", "program", "http-errors", "ring", "cache", "log-forward", "fcgi-app",
    "crt-store", "traces",
};

bool
hacfg_is_section(const char *word)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strcmp(word, sections[i]) == 0)
            return true;
    return false;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The scan of one line: text[pos..end), words written to buf. */
struct scan {
    struct diag *d;
    uint32_t src;
    const char *text;
    uint32_t pos, end;
    char *buf;
    size_t len;
};

static bool
fail(struct scan *s, uint32_t at, uint32_t n, const char *why)
{
    diag_error(s->d, (struct loc){ s->src, at, n }, "%s", why);
    return false;
}

/* One escape after the backslash at s->pos; in double quotes `$` may be escaped too. */
static bool
escape(struct scan *s)
{
    uint32_t at = s->pos;
    char c = s->pos + 1 < s->end ? s->text[s->pos + 1] : '\n';
    int hi, lo;

    switch (c) {
    case ' ': case '#': case '\\': case '"': case '\'': case '$': case '\t':
        s->buf[s->len++] = c;
        break;
    case 'r': s->buf[s->len++] = '\r'; break;
    case 'n': s->buf[s->len++] = '\n'; break;
    case 't': s->buf[s->len++] = '\t'; break;
    case 'x':
        hi = s->pos + 2 < s->end ? ast_hex_digit(s->text[s->pos + 2]) : -1;
        lo = s->pos + 3 < s->end ? ast_hex_digit(s->text[s->pos + 3]) : -1;
        if (hi < 0 || lo < 0)
            return fail(s, at, 2, "'\\x' needs two hexadecimal digits");
        if (hi == 0 && lo == 0)
            return fail(s, at, 4, "a NUL byte cannot be translated");
        s->buf[s->len++] = (char)(hi * 16 + lo);
        s->pos += 2;
        break;
    case '\n':
        return fail(s, at, 1, "a backslash at the end of a line continues nothing");
    default:
        return fail(s, at, 2, "unknown escape");
    }
    s->pos += 2;
    return true;
}

/* A quoted part from the quote at s->pos to its closing quote. */
static bool
quoted(struct scan *s)
{
    char q = s->text[s->pos];
    uint32_t open = s->pos++;

    while (s->pos < s->end && s->text[s->pos] != q) {
        char c = s->text[s->pos];

        if (q == '"' && c == '\\') {
            if (!escape(s))
                return false;
        } else if (q == '"' && c == '$') {
            return fail(s, s->pos, 1, "environment variables cannot be translated: write "
                        "the value, or escape the '$'");
        } else {
            s->buf[s->len++] = c;
            s->pos++;
        }
    }
    if (s->pos == s->end)
        return fail(s, open, 1, "unterminated quote");
    s->pos++;
    return true;
}

/* One word from s->pos (not a space, not '#'); stores it as word i of out. */
static bool
word(struct scan *s, struct arena *arena, struct hacfg_line *out)
{
    uint32_t start = s->pos;

    s->len = 0;
    while (s->pos < s->end && !is_space(s->text[s->pos]) && s->text[s->pos] != '#') {
        char c = s->text[s->pos];

        if (c == '"' || c == '\'') {
            if (!quoted(s))
                return false;
        } else if (c == '\\') {
            if (!escape(s))
                return false;
        } else {
            s->buf[s->len++] = c;
            s->pos++;
        }
    }
    if (out->count == HACFG_MAX_WORDS)
        return fail(s, start, s->pos - start, "more than 64 words on a line");
    out->at[out->count] = (struct loc){ s->src, start, s->pos - start };
    out->word[out->count++] = arena_strndup(arena, s->buf, s->len);
    return true;
}

/* Splits text[start..end) into words; false after reporting an error. */
static bool
split(struct scan *s, struct arena *arena, struct hacfg_line *out)
{
    const char *nul = memchr(s->text + s->pos, '\0', s->end - s->pos);

    if (nul != NULL)
        return fail(s, (uint32_t)(nul - s->text), 1, "a NUL byte cannot be translated");
    s->buf = arena_alloc(arena, s->end - s->pos + 1);
    for (;;) {
        while (s->pos < s->end && is_space(s->text[s->pos]))
            s->pos++;
        if (s->pos == s->end || s->text[s->pos] == '#')
            return true;
        if (!word(s, arena, out))
            return false;
    }
}

bool
hacfg_next(struct diag *d, struct arena *arena, uint32_t src, uint32_t *pos,
           struct hacfg_line *out)
{
    const struct diag_source *so = diag_source(d, src);

    while (*pos < so->len) {
        const char *nl = memchr(so->text + *pos, '\n', so->len - *pos);
        uint32_t end = nl != NULL ? (uint32_t)(nl - so->text) : so->len;
        struct scan s = { .d = d, .src = src, .text = so->text, .pos = *pos, .end = end };
        bool ok;

        out->count = 0;
        ok = split(&s, arena, out);
        *pos = nl != NULL ? end + 1 : end;
        if (ok && out->count > 0) {
            struct loc last = out->at[out->count - 1];

            out->loc = (struct loc){ src, out->at[0].off, last.off + last.len - out->at[0].off };
            return true;
        }
    }
    out->count = 0;
    return false;
}

/* The next line of text[*pos..len) holding something but a comment: its span. */
static bool
next_content(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
    while (*pos < len) {
        const char *nl = memchr(text + *pos, '\n', len - *pos);
        size_t e = nl != NULL ? (size_t)(nl - text) : len, s = *pos;

        *pos = nl != NULL ? e + 1 : e;
        while (s < e && (is_space(text[s])))
            s++;
        if (s < e && text[s] != '#') {
            *start = s;
            *end = e;
            return true;
        }
    }
    return false;
}

static bool
has_yard_marks(const char *text, size_t start, size_t end)
{
    return memchr(text + start, '{', end - start) != NULL ||
           memchr(text + start, ';', end - start) != NULL;
}

bool
hacfg_looks_like(const char *text, size_t len, size_t *at, size_t *at_len)
{
    size_t pos = 0, start, end, n = 0;
    char first[16];

    if (!next_content(text, len, &pos, &start, &end) || has_yard_marks(text, start, end))
        return false;
    while (start + n < end && !is_space(text[start + n]) && n < sizeof(first) - 1) {
        first[n] = text[start + n];
        n++;
    }
    first[n] = '\0';
    if (!hacfg_is_section(first))
        return false;
    *at = start;
    *at_len = n;
    return !next_content(text, len, &pos, &start, &end) || !has_yard_marks(text, start, end);
}
