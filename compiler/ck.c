#include "ck.h"

#include <string.h>

#include "addr.h"
#include "check.h"
#include "suggest.h"
#include "value.h"

void
ck_init(struct ck *ck, struct load *l)
{
    memset(ck, 0, sizeof(*ck));
    ck->l = l;
    ck->arena = l->arena;
    ck->diag = l->diag;
    avec_init(&ck->pools, ck->arena, sizeof(struct ck_pool));
    avec_init(&ck->sites, ck->arena, sizeof(struct ck_site));
    avec_init(&ck->listeners, ck->arena, sizeof(struct ck_listener));
    avec_init(&ck->logs, ck->arena, sizeof(struct ck_log));
    avec_init(&ck->pages, ck->arena, sizeof(struct ck_page));
    avec_init(&ck->expects, ck->arena, sizeof(struct check_expect));
    ck_nameset_init(ck, &ck->pool_names, 16);
    ck_nameset_init(ck, &ck->site_names, 1024);
}

void
ck_drop_names(struct ck *ck)
{
    arena_release(ck->arena, ck->site_names.slots, (size_t)(ck->site_names.mask + 1) * 4);
    arena_release(ck->arena, ck->site_names.hashes, (size_t)(ck->site_names.mask + 1) * 4);
    ck->site_names = (struct ck_nameset){ 0 };
}

void
ck_nameset_init(struct ck *ck, struct ck_nameset *s, uint32_t cap)
{
    uint32_t n = 16;

    while (n < cap * 2)
        n *= 2;
    s->slots = arena_calloc(ck->arena, n, sizeof(uint32_t));
    s->hashes = arena_calloc(ck->arena, n, sizeof(uint32_t));
    s->mask = n - 1;
    s->count = 0;
}

const char *
ck_pool_name_of(const struct ck *ck, uint32_t idx, uint32_t *len)
{
    const struct ck_pool *p = AVEC_AT(&ck->pools, struct ck_pool, idx);

    *len = p->name_len;
    return p->name;
}

const char *
ck_site_name_of(const struct ck *ck, uint32_t idx, uint32_t *len)
{
    const struct ck_site *s = AVEC_AT(&ck->sites, struct ck_site, idx);

    *len = s->len;
    return s->name;
}

uint32_t
ck_nameset_find(const struct ck *ck, const struct ck_nameset *s, ck_name_of_fn name_of,
                const char *name, size_t len, uint32_t h)
{
    for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
        uint32_t v = s->slots[i], nlen;
        const char *n;

        if (v == 0)
            return YT_NONE;
        if (s->hashes[i] != h)
            continue;
        n = name_of(ck, v - 1, &nlen);
        if (nlen == len && memcmp(n, name, len) == 0)
            return v - 1;
    }
}

void
ck_nameset_add(struct ck *ck, struct ck_nameset *s, uint32_t idx, uint32_t h)
{
    uint32_t i;

    if ((s->count + 1) * 2 > s->mask + 1) {
        struct ck_nameset n;

        ck_nameset_init(ck, &n, s->mask + 1);
        for (uint32_t j = 0; j <= s->mask; j++) {
            if (s->slots[j] == 0)
                continue;
            for (i = s->hashes[j] & n.mask; n.slots[i] != 0; i = (i + 1) & n.mask)
                ;
            n.slots[i] = s->slots[j];
            n.hashes[i] = s->hashes[j];
        }
        n.count = s->count;
        arena_release(ck->arena, s->slots, (size_t)(s->mask + 1) * sizeof(uint32_t));
        arena_release(ck->arena, s->hashes, (size_t)(s->mask + 1) * sizeof(uint32_t));
        *s = n;
    }
    for (i = h & s->mask; s->slots[i] != 0; i = (i + 1) & s->mask)
        ;
    s->slots[i] = idx + 1;
    s->hashes[i] = h;
    s->count++;
}

/* A NUMBER argument within [min, max]. */
bool
ck_uint(struct ck *ck, struct ast_arg a, uint32_t min, uint32_t max, const char *what,
        uint32_t *out)
{
    uint32_t v;

    if (a.kind != AST_NUMBER || !value_u32(ck_text(ck, a.loc), a.loc.len, &v) || v < min ||
        v > max) {
        diag_error(ck->diag, a.loc, "%s must be a number from %u to %u", what, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool
ck_duration(struct ck *ck, struct ast_arg a, const char *what, uint32_t *ms)
{
    const char *t = ck_text(ck, a.loc);
    const char *why = value_duration(t, a.loc.len, ms);

    if (why == NULL)
        return true;
    if (a.kind == AST_NUMBER)
        diag_error(ck->diag, a.loc, "%s needs a unit: did you mean '%.*sms'?", what,
                   (int)a.loc.len, t);
    else
        diag_error(ck->diag, a.loc, "%s: %s", what, why);
    return false;
}

/* A size: bytes, or a number with k (KiB) or m (MiB). */
bool
ck_size(struct ck *ck, struct ast_arg a, const char *what, uint32_t min, uint32_t max,
        uint32_t *out)
{
    const char *t = ck_text(ck, a.loc);
    size_t digits = 0;
    uint64_t v = 0, mult = 1;

    while (digits < a.loc.len && t[digits] >= '0' && t[digits] <= '9' && v <= UINT32_MAX)
        v = v * 10 + (uint64_t)(t[digits++] - '0');
    if (digits + 1 == a.loc.len && (t[digits] == 'k' || t[digits] == 'K'))
        mult = 1024;
    else if (digits + 1 == a.loc.len && (t[digits] == 'm' || t[digits] == 'M'))
        mult = 1024 * 1024;
    else if (digits != a.loc.len || digits == 0) {
        diag_error(ck->diag, a.loc, "%s: expected a size in bytes, or with k or m", what);
        return false;
    }
    v *= mult;
    if (v < min || v > max) {
        diag_error(ck->diag, a.loc, "%s must be from %uk to %uk", what, min / 1024,
                   max / 1024);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* The value of a WORD or STRING argument; NULL (reported) when it holds a NUL byte or is
 * empty. */
const char *
ck_string(struct ck *ck, struct ast_arg a, const char *what, size_t *len)
{
    const char *v;

    if (a.kind == AST_STRING) {
        v = ast_string(ck->arena, ck->diag, a.loc, len);
    } else {
        v = arena_strndup(ck->arena, ck_text(ck, a.loc), a.loc.len);
        *len = a.loc.len;
    }
    if (*len == 0 || strlen(v) != *len) {
        diag_error(ck->diag, a.loc, *len == 0 ? "%s cannot be empty" :
                   "%s cannot contain a NUL byte", what);
        return NULL;
    }
    return v;
}

bool
ck_valid_name(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Reports the item if an earlier one of the same kind exists in [first, it). */
bool
ck_is_duplicate(struct ck *ck, const struct ast_item *first, const struct ast_item *it,
                const char *what)
{
    for (const struct ast_item *p = first; p != NULL && p != it; p = p->next) {
        if (p->kind != it->kind)
            continue;
        diag_error(ck->diag, it->kw, "duplicate '%s'", what);
        diag_note(ck->diag, p->kw, "first set here");
        return true;
    }
    return false;
}

int
ck_lookup_word(struct ck *ck, struct ast_arg a, const char *const *words, size_t count,
               const char *what)
{
    const char *t = ck_text(ck, a.loc);
    const char *best;

    for (size_t i = 0; i < count; i++)
        if (strlen(words[i]) == a.loc.len && memcmp(words[i], t, a.loc.len) == 0)
            return (int)i;
    best = suggest(t, a.loc.len, words, count);
    if (best != NULL)
        diag_error(ck->diag, a.loc, "unknown %s '%.*s'; did you mean '%s'?", what,
                   (int)a.loc.len, t, best);
    else
        diag_error(ck->diag, a.loc, "unknown %s '%.*s'", what, (int)a.loc.len, t);
    return -1;
}

/* Normalises a domain token; reports and returns false when invalid. */
bool
ck_domain(struct ck *ck, struct loc loc, bool allow_wildcard, char out[DOMAIN_BUF],
          size_t *out_len)
{
    size_t bad_off, bad_len;
    const char *idn = NULL;
    enum domain_result r = domain_normalize(ck_text(ck, loc), loc.len, allow_wildcard, out,
                                            out_len, &bad_off, &bad_len, &idn);

    if (r == DOMAIN_OK)
        return true;
    if (r == DOMAIN_IDN && idn != NULL)
        diag_error(ck->diag, ck_sub(loc, bad_off, bad_len), "%s: %s", domain_strerror(r), idn);
    else
        diag_error(ck->diag, ck_sub(loc, bad_off, bad_len), "%s", domain_strerror(r));
    return false;
}

bool
ck_server_addr(struct ck *ck, struct loc loc, struct sockaddr_in6 *out)
{
    size_t off, len;
    const char *why = addr_server(ck_text(ck, loc), loc.len, out, &off, &len);

    if (why != NULL)
        diag_error(ck->diag, ck_sub(loc, off, len), "%s", why);
    return why == NULL;
}
