#include "layout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errpage.h"
#include "healthck.h"
#include "phash.h"

struct sref {
    uint64_t prefix;                    /* the first 8 bytes, big-endian: most compares end here */
    const char *name;
    uint32_t len;
    uint32_t idx;
};

static int
sref_cmp(const void *pa, const void *pb)
{
    const struct sref *a = pa, *b = pb;
    uint32_t n;
    int c;

    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    n = a->len < b->len ? a->len : b->len;
    if (n > 8 && (c = memcmp(a->name + 8, b->name + 8, n - 8)) != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static uint64_t
prefix8(const char *s, uint32_t len)
{
    uint64_t v = 0;

    for (uint32_t i = 0; i < 8; i++)
        v = (v << 8) | (i < len ? (unsigned char)s[i] : 0);
    return v;
}

struct yt_str
layout_blob_add(struct abuf *blob, const char *s, size_t len)
{
    struct yt_str r = { (uint32_t)blob->len, (uint32_t)len };

    abuf_add(blob, s, len);
    return r;
}

static int
pool_order(const void *pa, const void *pb)
{
    const struct ck_pool *a = *(const struct ck_pool *const *)pa;
    const struct ck_pool *b = *(const struct ck_pool *const *)pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c;

    if (a->named != b->named)
        return a->named ? -1 : 1;
    c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int
listener_order(const void *pa, const void *pb)
{
    const struct ck_listener *a = *(const struct ck_listener *const *)pa;
    const struct ck_listener *b = *(const struct ck_listener *const *)pb;

    return strcmp(a->name, b->name);
}

static int
log_order(const void *pa, const void *pb)
{
    const struct ck_log *a = pa, *b = pb;
    int c;

    if (a->yl.kind != b->yl.kind)
        return a->yl.kind < b->yl.kind ? -1 : 1;
    c = strcmp(a->path, b->path);
    if (c != 0)
        return c;
    c = memcmp(&a->yl.addr, &b->yl.addr, sizeof(a->yl.addr));
    if (c != 0)
        return c;
    if (a->yl.facility != b->yl.facility)
        return a->yl.facility < b->yl.facility ? -1 : 1;
    if (a->yl.level != b->yl.level)
        return (int)a->yl.level - (int)b->yl.level;
    return (int)a->yl.format - (int)b->yl.format;
}

static int
page_order(const void *pa, const void *pb)
{
    const struct ck_page *a = pa, *b = pb;

    return (int)a->status - (int)b->status;
}

/* Sites by name; ck->site_loc says where each was written, for the expects' notes. The
 * checker's sites are given back: a million of them are the biggest array of the run. */
static void
layout_sites(struct ck *ck, struct yt_table *t, struct abuf *blob)
{
    uint32_t nsites = ck->sites.count;
    struct sref *refs = arena_alloc(ck->arena, (size_t)(nsites ? nsites : 1) * sizeof(*refs));
    struct yt_site *sites = arena_calloc(ck->arena, nsites ? nsites : 1, sizeof(*sites));

    for (uint32_t i = 0; i < nsites; i++) {
        const struct ck_site *s = AVEC_AT(&ck->sites, struct ck_site, i);

        refs[i] = (struct sref){ prefix8(s->name, s->len), s->name, s->len, i };
    }
    if (nsites > 1)
        qsort(refs, nsites, sizeof(*refs), sref_cmp);
    ck->site_loc = arena_calloc(ck->arena, nsites + 1, sizeof(*ck->site_loc));
    for (uint32_t i = 0; i < nsites; i++) {
        const struct ck_site *s = AVEC_AT(&ck->sites, struct ck_site, refs[i].idx);

        sites[i].name = layout_blob_add(blob, s->name, s->len);
        for (int p = 0; p < YT_PROTO_COUNT; p++)
            sites[i].pool[p] = s->pool[p] == YT_NONE ? YT_NONE : ck->pool_final[s->pool[p]];
        sites[i].flags = s->flags;
        ck->site_loc[i] = s->loc;
    }
    t->sites = sites;
    t->site_count = nsites;
    arena_release(ck->arena, refs, (size_t)(nsites ? nsites : 1) * sizeof(*refs));
    arena_release(ck->arena, ck->sites.data, (size_t)ck->sites.cap * ck->sites.size);
    avec_init(&ck->sites, ck->arena, sizeof(struct ck_site));
}

/* The order of the pools (named ones by name, then the inline ones by name) into
 * ck->pool_final, which the other parts of the table refer to pools by. */
static const struct ck_pool **
pool_order_of(struct ck *ck)
{
    uint32_t npools = ck->pools.count;
    const struct ck_pool **porder = arena_calloc(ck->arena, npools + 1, sizeof(*porder));

    for (uint32_t i = 0; i < npools; i++)
        porder[i] = AVEC_AT(&ck->pools, struct ck_pool, i);
    if (npools > 1)
        qsort(porder, npools, sizeof(*porder), pool_order);
    ck->pool_final = arena_calloc(ck->arena, npools + 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < npools; i++)
        ck->pool_final[porder[i] - (const struct ck_pool *)ck->pools.data] = i;
    return porder;
}

/* Pools in that order, each with its servers, named "[addr]:port" for the logs. */
static void
layout_pools(struct ck *ck, const struct ck_pool **porder, struct yt_table *t,
             struct abuf *blob)
{
    uint32_t npools = ck->pools.count, nservers = 0, si = 0;
    struct yt_pool *pools = arena_calloc(ck->arena, npools + 1, sizeof(*pools));
    struct yt_server *servers;

    for (uint32_t i = 0; i < npools; i++)
        nservers += porder[i]->count;
    servers = arena_calloc(ck->arena, nservers + 1, sizeof(*servers));
    for (uint32_t i = 0; i < npools; i++) {
        const struct ck_pool *p = porder[i];

        pools[i].name = layout_blob_add(blob, p->name, p->name_len);
        pools[i].first = si;
        pools[i].count = p->count;
        for (uint32_t j = 0; j < p->count; j++, si++) {
            char host[INET6_ADDRSTRLEN];
            char nm[INET6_ADDRSTRLEN + 10];
            int n;

            servers[si].addr = p->servers[j].addr;
            servers[si].weight = p->servers[j].weight;
            servers[si].flags = p->servers[j].flags;
            inet_ntop(AF_INET6, &p->servers[j].addr.sin6_addr, host, sizeof(host));
            n = snprintf(nm, sizeof(nm), "[%s]:%u", host, ntohs(p->servers[j].addr.sin6_port));
            servers[si].name = layout_blob_add(blob, nm, (size_t)n);
        }
    }
    t->pools = pools;
    t->pool_count = npools;
    t->servers = servers;
    t->server_count = nservers;
}

static int
range_order(const void *a, const void *b)
{
    const struct yt_range *x = a, *y = b;
    int c = memcmp(x->addr, y->addr, sizeof(x->addr));

    return c != 0 ? c : (int)x->prefix - (int)y->prefix;
}

/* Listeners by name, their binds in the order written; the expects, which refer to
 * listeners and pools by the checker's indexes, renumbered to the table's. */
static void
layout_listeners(struct ck *ck, struct yt_table *t, struct abuf *blob)
{
    uint32_t n = ck->listeners.count, nb = 0, bi = 0, nr = 0, ri = 0;
    const struct ck_listener **lo = arena_calloc(ck->arena, n + 1, sizeof(*lo));
    struct yt_listener *ls = arena_calloc(ck->arena, n + 1, sizeof(*ls));
    struct yt_bind *bs;
    struct yt_range *rs;

    for (uint32_t i = 0; i < n; i++) {
        lo[i] = AVEC_AT(&ck->listeners, struct ck_listener, i);
        nb += lo[i]->bind_count;
        nr += lo[i]->range_count;
    }
    if (n > 1)
        qsort(lo, n, sizeof(*lo), listener_order);
    bs = arena_calloc(ck->arena, nb + 1, sizeof(*bs));
    rs = arena_calloc(ck->arena, nr + 1, sizeof(*rs));
    for (uint32_t i = 0; i < n; i++) {
        ls[i] = lo[i]->yl;
        ls[i].name = layout_blob_add(blob, lo[i]->name, lo[i]->name_len);
        if (ls[i].fallback_pool != YT_NONE)
            ls[i].fallback_pool = ck->pool_final[ls[i].fallback_pool];
        ls[i].first_bind = bi;
        ls[i].bind_count = lo[i]->bind_count;
        for (uint32_t j = 0; j < lo[i]->bind_count; j++)
            bs[bi++] = lo[i]->binds[j];
        /* The order ranges are written in means nothing: sorted, for one canonical form. */
        ls[i].first_range = ri;
        ls[i].range_count = lo[i]->range_count;
        if (lo[i]->range_count > 0) {
            memcpy(rs + ri, lo[i]->ranges, lo[i]->range_count * sizeof(*rs));
            qsort(rs + ri, lo[i]->range_count, sizeof(*rs), range_order);
        }
        ri += lo[i]->range_count;
    }
    for (uint32_t k = 0; k < ck->expects.count; k++) {
        struct check_expect *e = AVEC_AT(&ck->expects, struct check_expect, k);
        const struct ck_listener *old = AVEC_AT(&ck->listeners, struct ck_listener, e->listener);

        for (uint32_t i = 0; i < n; i++)
            if (lo[i] == old)
                e->listener = i;
        if (e->kind == AST_EXPECT_POOL)
            e->pool = ck->pool_final[e->pool];
    }
    t->listeners = ls;
    t->listener_count = n;
    t->binds = bs;
    t->bind_count = nb;
    t->ranges = rs;
    t->range_count = nr;
}

/* Logs (stderr when none is given). */
static void
layout_logs(struct ck *ck, struct yt_table *t, struct abuf *blob)
{
    struct yt_log *lg;

    if (ck->logs.count == 0) {
        struct ck_log *d = avec_push(&ck->logs);

        d->yl.kind = YT_LOG_STDERR;
        d->yl.level = 7;
        d->path = "";
    }
    qsort(ck->logs.data, ck->logs.count, sizeof(struct ck_log), log_order);
    lg = arena_calloc(ck->arena, ck->logs.count, sizeof(*lg));
    for (uint32_t i = 0; i < ck->logs.count; i++) {
        struct ck_log *src = AVEC_AT(&ck->logs, struct ck_log, i);

        lg[i] = src->yl;
        lg[i].path = layout_blob_add(blob, src->path, src->path_len);
    }
    t->logs = lg;
    t->log_count = ck->logs.count;
}

/* Error pages: the built-in ones unless replaced, and the others given, by status. */
static void
layout_pages(struct ck *ck, struct yt_table *t, struct abuf *blob)
{
    struct yt_errpage *ep;

    for (size_t i = 0; i < errpage_builtin_count; i++) {
        uint16_t st = errpage_builtin_statuses[i];
        bool given = false;

        for (uint32_t j = 0; j < ck->pages.count && !given; j++)
            given = AVEC_AT(&ck->pages, struct ck_page, j)->status == st;
        if (!given) {
            struct ck_page *p = avec_push(&ck->pages);

            p->status = st;
            p->data = errpage_builtin(ck->arena, st, &p->len);
        }
    }
    qsort(ck->pages.data, ck->pages.count, sizeof(struct ck_page), page_order);
    ep = arena_calloc(ck->arena, ck->pages.count, sizeof(*ep));
    for (uint32_t i = 0; i < ck->pages.count; i++) {
        struct ck_page *p = AVEC_AT(&ck->pages, struct ck_page, i);

        ep[i].status = p->status;
        ep[i].response = layout_blob_add(blob, p->data, p->len);
    }
    t->errors = ep;
    t->error_count = ck->pages.count;
}

static void
layout_global(const struct ck *ck, struct yt_table *t, struct abuf *blob)
{
    t->global = ck->global;
    if (ck->user != NULL)
        t->global.user = layout_blob_add(blob, ck->user, strlen(ck->user));
    if (ck->group != NULL)
        t->global.group = layout_blob_add(blob, ck->group, strlen(ck->group));
    if (ck->chroot != NULL)
        t->global.chroot = layout_blob_add(blob, ck->chroot, strlen(ck->chroot));
    if (ck->admin != NULL)
        t->global.admin_socket = layout_blob_add(blob, ck->admin, strlen(ck->admin));
    t->timeouts = ck->timeouts;
}

void
layout_table(struct ck *ck, struct yt_table *t, struct abuf *blob)
{
    const struct ck_pool **porder;

    memset(t, 0, sizeof(*t));
    t->abi = YT_ABI;
    porder = pool_order_of(ck);
    layout_sites(ck, t, blob);
    layout_pools(ck, porder, t, blob);
    healthck_layout(ck, porder, t, blob);
    layout_listeners(ck, t, blob);
    layout_logs(ck, t, blob);
    layout_pages(ck, t, blob);
    layout_global(ck, t, blob);
    t->blob = blob->data;
    t->blob_len = blob->len;
}

int
layout_hash(struct arena *arena, struct diag *diag, struct yt_table *t)
{
    struct yt_key *in = arena_calloc(arena, t->site_count + 1, sizeof(*in));
    struct phash ph;
    uint16_t *disp;
    uint32_t *remap, nremap;
    struct yt_key *keys;

    for (uint32_t i = 0; i < t->site_count; i++) {
        const struct yt_str *n = &t->sites[i].name;
        bool wild = t->blob[n->off] == '*';

        in[i].off = n->off + wild;
        in[i].len = (uint16_t)(n->len - wild);
        in[i].site = i;
    }
    if (phash_build(t->blob, in, t->site_count, &ph) == -1) {
        struct loc none = { .src = DIAG_NO_SOURCE };

        diag_error(diag, none, "cannot build the perfect hash: %s", strerror(errno));
        return -1;
    }
    t->seed = ph.seed;
    t->bucket_count = ph.bucket_count;
    t->slot_count = ph.slot_count;
    t->key_count = ph.key_count;
    nremap = ph.slot_count - ph.key_count;
    disp = arena_calloc(arena, ph.bucket_count + 1, sizeof(*disp));
    remap = arena_calloc(arena, nremap + 1, sizeof(*remap));
    keys = arena_calloc(arena, ph.key_count + 1, sizeof(*keys));
    memcpy(disp, ph.disp, ph.bucket_count * sizeof(*disp));
    if (nremap > 0)
        memcpy(remap, ph.remap, nremap * sizeof(*remap));
    if (ph.key_count > 0)
        memcpy(keys, ph.keys, ph.key_count * sizeof(*keys));
    t->disp = disp;
    t->remap = nremap > 0 ? remap : NULL;
    t->keys = keys;
    phash_free(&ph);
    return 0;
}
