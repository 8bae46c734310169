/* The checker's state, shared by its parts (settings.c, pools.c, sites.c, listeners.c,
 * expects.c, layout.c): what the checks have accepted so far, in declaration order, with
 * the locations to point at; and the helpers that read one value of the syntax tree and
 * report what is wrong with it. Every helper reports its own error; false (or YT_NONE,
 * or NULL) then means "reported, go on with the next item".
 *
 * All memory is the compilation's arena. */
#ifndef COMPILER_CK_H
#define COMPILER_CK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "domain.h"
#include "load.h"
#include "table.h"

/* An open-addressing set of names; slots hold index + 1, names are looked up through
 * the owner's arrays. */
struct ck_server {
    struct sockaddr_in6 addr;
    uint16_t weight, flags;
};

/* A `check` line as read (healthck.c): the options it gives, in .set. */
struct ck_check {
    struct loc kw;
    uint32_t set;                       /* HEALTHCK_SET_* of the options given */
    bool off, tcp;
    struct yt_check yc;                 /* numbers; strings below until the layout */
    const char *method, *path, *host;   /* NULL: not given */
    size_t method_len, path_len, host_len;
    struct loc http_opt;                /* the first http option given, for messages */
};

struct ck_pool {
    const char *name;
    uint32_t name_len;
    struct loc loc;
    bool named, used;
    struct ck_server *servers;
    uint32_t count;
    const struct ast_item *check_items; /* the pool block's items (named pools) */
    struct ck_check *check;             /* resolved: NULL when not checked */
};

struct ck_site {
    const char *name;                   /* normalised (not NUL-terminated: often the source) */
    uint32_t len;
    uint32_t pool[YT_PROTO_COUNT];
    uint32_t flags;
    struct loc loc;
    bool from_block;                    /* a `site` block, not a domain list line */
};

struct ck_listener {
    struct yt_listener yl;
    const char *name;
    uint32_t name_len;
    struct loc loc;
    struct yt_bind *binds;
    struct loc *bind_locs;
    uint32_t bind_count;
    struct yt_range *ranges;            /* accept-proxy, in the order written */
    uint32_t range_count;
};

struct ck_log {
    struct yt_log yl;
    const char *path;
    uint32_t path_len;
    struct loc loc;                     /* the `log` keyword */
};

struct ck_page {
    uint16_t status;
    struct loc loc;
    const char *data;
    size_t len;
};

struct ck_nameset {
    uint32_t *slots;
    uint32_t *hashes;
    uint32_t mask, count;
};

struct ck {
    struct load *l;
    struct arena *arena;
    struct diag *diag;
    struct avec pools;                  /* struct ck_pool */
    struct ck_nameset pool_names;
    struct avec sites;                  /* struct ck_site */
    struct ck_nameset site_names;
    struct avec listeners;              /* struct ck_listener */
    struct avec logs;                   /* struct ck_log */
    struct avec pages;                  /* struct ck_page */
    struct avec expects;                /* struct check_expect */
    struct yt_global global;
    const char *user, *group, *chroot, *admin;
    struct yt_timeouts timeouts;
    struct ck_check *default_check;     /* the defaults' `check` line, NULL: none */
    bool dontlognull;
    bool log_json;                      /* defaults: log-format json */
    bool site_errors;                   /* some site was dropped: routes are unknown */
    uint32_t wildcards;
    uint32_t *pool_final;               /* old pool index -> table index */
    struct loc *site_loc;               /* where each of the table's sites was written */
};

/* Starts an empty state for what l has loaded. */
void ck_init(struct ck *ck, struct load *l);

/* Gives back the site-name set, the biggest structure a big configuration checks with,
 * once nothing looks names up any more. */
void ck_drop_names(struct ck *ck);

static inline struct loc
ck_sub(struct loc l, size_t off, size_t len)
{
    struct loc r = { .src = l.src, .off = l.off + (uint32_t)off, .len = (uint32_t)len };

    return r;
}

/* The source text at l (not NUL-terminated: l.len bytes). */
static inline const char *
ck_text(const struct ck *ck, struct loc l)
{
    return diag_text(ck->diag, l);
}

/* Too many errors: stop checking. */
static inline bool
ck_stopped(const struct ck *ck)
{
    return diag_is_stopped(ck->diag);
}

static inline uint32_t
ck_name_hash(const char *s, size_t len)
{
    return (uint32_t)yt_hash(s, len, 0x9e3779b97f4a7c15ull);
}

/* ---- name sets: pools and sites by name ---- */

typedef const char *(*ck_name_of_fn)(const struct ck *ck, uint32_t idx, uint32_t *len);

const char *ck_pool_name_of(const struct ck *ck, uint32_t idx, uint32_t *len);
const char *ck_site_name_of(const struct ck *ck, uint32_t idx, uint32_t *len);
void ck_nameset_init(struct ck *ck, struct ck_nameset *s, uint32_t cap);
/* The index of name[0..len) (hash h), or YT_NONE. */
uint32_t ck_nameset_find(const struct ck *ck, const struct ck_nameset *s, ck_name_of_fn name_of,
                         const char *name, size_t len, uint32_t h);
void ck_nameset_add(struct ck *ck, struct ck_nameset *s, uint32_t idx, uint32_t h);

/* ---- one value each, reported when wrong ---- */

/* A NUMBER argument within [min, max]. */
bool ck_uint(struct ck *ck, struct ast_arg a, uint32_t min, uint32_t max, const char *what,
             uint32_t *out);
/* A duration ("5s"); a bare number is told the unit it lacks. */
bool ck_duration(struct ck *ck, struct ast_arg a, const char *what, uint32_t *ms);
/* A size: bytes, or a number with k (KiB) or m (MiB), within [min, max]. */
bool ck_size(struct ck *ck, struct ast_arg a, const char *what, uint32_t min, uint32_t max,
             uint32_t *out);
/* The value of a WORD or STRING argument, NUL-terminated in the arena; NULL when it holds
 * a NUL byte or is empty. */
const char *ck_string(struct ck *ck, struct ast_arg a, const char *what, size_t *len);
/* Whether s[0..len) may name a pool or a listener: 1 to 64 of [A-Za-z0-9._-] (not
 * reported: the caller says which name). */
bool ck_valid_name(const char *s, size_t len);
/* Reports it if an item of the same kind comes before it in [first, it). */
bool ck_is_duplicate(struct ck *ck, const struct ast_item *first, const struct ast_item *it,
                     const char *what);
/* The index of the argument's word in words[0..count), or -1 (reported, with the nearest
 * word as a suggestion). */
int ck_lookup_word(struct ck *ck, struct ast_arg a, const char *const *words, size_t count,
                   const char *what);
/* A domain token, normalised into out (wildcards when allowed). */
bool ck_domain(struct ck *ck, struct loc loc, bool allow_wildcard, char out[DOMAIN_BUF],
               size_t *out_len);
/* A backend address token. */
bool ck_server_addr(struct ck *ck, struct loc loc, struct sockaddr_in6 *out);

#endif
