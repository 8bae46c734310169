/* The state of `yardc import`, shared by its halves: import.c reads the HAProxy
 * configuration into struct im, importout.c turns its frontends' use_backend lines into
 * routes, checks the whole and writes the .yard text. Everything lives in the arena.
 * The error helpers report at a word of the line being read (im->ln) and return false,
 * for `return im_cannot(...)` in the handlers of lines. */
#ifndef COMPILER_IMPORTINT_H
#define COMPILER_IMPORTINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "hacfg.h"
#include "import.h"
#include "table.h"

/* HAProxy's default mode is tcp. */
enum im_mode { IM_TCP = 0, IM_HTTP };

enum im_section { IM_NONE = 0, IM_GLOBAL, IM_DEFAULTS, IM_FRONTEND, IM_BACKEND, IM_LISTEN, IM_SKIP };

enum im_timeout { IM_T_CONNECT = 0, IM_T_CLIENT, IM_T_SERVER, IM_T_INSPECT, IM_T_TUNNEL, IM_T_COUNT };

/* A line of the global or defaults block: a statement with the HAProxy line it comes
 * from as a comment, or only that comment (yard NULL) and why it needs no statement. */
struct im_entry {
    const char *yard;
    const char *line;
    const char *why;
};

struct im_backend {
    const char *name;
    struct loc at;                      /* the name in the section line */
    enum im_mode mode;
    struct avec servers;                /* const char *: "[addr]:port options" */
    struct avec lines;                  /* const char *: the section's lines */
    bool dontlognull, forwarded_for;
    bool listen_own;                    /* the servers of a listen section */
    uint32_t uses;                      /* routes and fallbacks naming it */
    uint32_t route_uses;
};

enum im_route { IM_ROUTE_NONE = 0, IM_ROUTE_NAME, IM_ROUTE_MAP };

struct im_frontend {
    const char *name;
    struct loc at;
    enum im_mode mode;
    struct avec binds;                  /* const char *: listen addresses of the language */
    struct avec lines;
    enum im_route route;
    struct loc route_at;                /* the use_backend argument */
    const char *prefix, *suffix;        /* around the %[...] of use_backend */
    bool sni;                           /* by req_ssl_sni, else by Host */
    int64_t map_src;                    /* IM_ROUTE_MAP: the map file's source */
    const char *map_default;            /* map(FILE,DEFAULT) */
    const char *fallback;               /* default_backend */
    struct loc fallback_at;
    uint16_t redirect;                  /* http-request redirect scheme https: its code */
    struct loc redirect_at;
    bool dontlognull, forwarded_for;
};

struct im_bind {
    struct yt_bind b;
    struct loc at;
};

/* One route: a domain to a backend, for one protocol. */
struct im_route_ent {
    const char *domain;
    uint32_t backend;
    struct loc at;
};

enum { IM_P_HTTP = 0, IM_P_TLS, IM_P_COUNT };

struct im {
    struct diag *d;
    struct arena *a;
    const struct import_opts *o;
    const char *path;
    const struct hacfg_line *ln;        /* the line being read */
    unsigned errors_before;             /* d->errors when it started */
    enum im_section sec;
    struct im_frontend *fe;
    struct im_backend *be;
    struct avec global, defaults;       /* struct im_entry */
    struct avec logs;                   /* const char *: "target facility" */
    struct avec binds;                  /* struct im_bind: every frontend's */
    struct avec frontends, backends;    /* pointers */
    struct loc user_at, group_at, chroot_at, maxconn_at, admin_at, admin_timeout_at;
    struct loc defaults_at;
    const char *admin_path, *admin_level;
    uint32_t admin_mode, admin_timeout, admin_entry;
    struct loc timeout_at[IM_T_COUNT];
    uint32_t timeout_ms[IM_T_COUNT];
    struct loc page_at[200];            /* errorfile 400 .. 599 */
    enum im_mode def_mode;
    bool def_dontlognull, def_forwarded_for;
    struct avec routes[IM_P_COUNT];     /* struct im_route_ent, sorted by domain */
    struct im_frontend *router[IM_P_COUNT];  /* the frontend that set them */
};

const char *im_section_name(enum im_section s);

/* s[0..len) as a comment of the language can hold it: runs of blanks become one space,
 * controls and non-ASCII bytes '?'. */
const char *im_safe_text(struct arena *a, const char *t, size_t len);

/* An error at word i of the current line (the line's end when there is no word i). */
bool im_error_at(struct im *im, uint32_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The line has exactly n words, or an error names the first extra or the missing one. */
bool im_want_words(struct im *im, uint32_t n);

/* An error: word i of the line does not translate, because of why (NULL: the word is
 * unknown in the section). */
bool im_cannot(struct im *im, uint32_t i, const char *why);

const char *im_duration_text(struct im *im, uint32_t ms);

/* A string of the language, quoted. */
const char *im_quote(struct im *im, const char *s);

/* The file a line names: relative to the configuration's directory, absolute paths
 * under --root. Registers it as a source; returns it, or -1 after an error at word i. */
int64_t im_read_named_file(struct im *im, uint32_t i, const char *path, const char *what);

/* importout.c */

/* Reads the use_backend line of fe; false after an error. */
bool im_use_backend(struct im *im, struct im_frontend *fe);

/* The backend called name (its index in idx), or NULL. */
struct im_backend *im_find_backend(struct im *im, const char *name, uint32_t *idx);

/* Completes the admin statement, routes every frontend and checks frontends and
 * backends; errors through im->d. */
void im_finish(struct im *im);

/* Appends the .yard text of an import without errors to out. */
void im_write(struct im *im, struct abuf *out);

#endif
