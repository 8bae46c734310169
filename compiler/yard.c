#include "yard.h"

#include <malloc.h>
#include <string.h>

#include "expects.h"
#include "layout.h"
#include "print.h"
#include "sha256.h"

void
yard_init(struct yard *y, FILE *out)
{
    memset(y, 0, sizeof(*y));
    arena_init(&y->arena);
    arena_init(&y->tree_arena);
    diag_init(&y->diag, &y->arena, out);
    ast_init(&y->ast);
}

/* Takes the digest of the text yt_print_config() writes, a buffer at a time. */
struct text_digest {
    struct sha256_ctx sha;
    size_t len;
    char buf[1 << 14];
};

static void
digest_put(void *ctx, const char *s, size_t len)
{
    struct text_digest *d = ctx;

    if (len > sizeof(d->buf) - d->len) {
        sha256_update(&d->sha, d->buf, d->len);
        d->len = 0;
        if (len > sizeof(d->buf)) {
            sha256_update(&d->sha, s, len);
            return;
        }
    }
    memcpy(d->buf + d->len, s, len);
    d->len += len;
}

/* The canonical text of t and its expects: the parts before and after the sites appended
 * to the blob (in t->config and t->config_tail; the blob's NUL is not counted in
 * t->blob_len), the sites' lines left to yt_print_site(); the digest of the whole into
 * t->digest. */
static void
canonical_text(struct yard *y, struct abuf *blob)
{
    struct yt_table *t = &y->result.table;
    struct text_digest *d;
    struct abuf text;
    uint8_t sum[32];

    abuf_init(&text, &y->arena);
    print_config_head(&text, t);
    t->config = layout_blob_add(blob, text.data, text.len);
    text.len = 0;
    print_config_tail(&text, t, y->result.expects, y->result.expect_count);
    t->config_tail = layout_blob_add(blob, text.data, text.len);
    arena_release(&y->arena, text.data, text.cap);
    abuf_addc(blob, '\0');
    t->blob = blob->data;
    t->blob_len = blob->len - 1;
    d = arena_alloc(&y->arena, sizeof(*d));
    sha256_init(&d->sha);
    d->len = 0;
    yt_print_config(t, digest_put, d);
    sha256_update(&d->sha, d->buf, d->len);
    sha256_final(&d->sha, sum);
    sha256_hex_of(sum, t->digest);
    arena_release(&y->arena, d, sizeof(*d));
}

/* The checks are done with the syntax tree: a million sites make it the biggest part of
 * the run's memory, given back before the table is laid out. */
static void
drop_tree(struct yard *y)
{
    ast_init(&y->ast);
    arena_free(&y->tree_arena);
    arena_init(&y->tree_arena);
    malloc_trim(0);
}

enum yard_status
yard_compile(struct yard *y, const char *path, const char *data, size_t len, bool allow_fs)
{
    struct yt_table *t = &y->result.table;
    const struct check_expect *in_order;
    struct abuf blob;

    y->load = (struct load){
        .arena = &y->arena, .diag = &y->diag, .ast = &y->ast, .allow_fs = allow_fs,
        .tree_arena = &y->tree_arena,
    };
    if (load_config(&y->load, path, data, len) == -1)
        return YARD_IO_ERROR;
    /* After a syntax error the tree is incomplete: checking it would report what is only
     * missing, so stop here. */
    if (y->diag.errors > 0)
        return YARD_INPUT_ERRORS;
    ck_init(&y->ck, &y->load);
    if (check_config(&y->ck) == -1)
        return YARD_INPUT_ERRORS;
    drop_tree(y);
    abuf_init(&blob, &y->arena);
    layout_table(&y->ck, t, &blob);
    in_order = expects_sort(&y->ck, &y->result);
    canonical_text(y, &blob);
    /* the biggest buffers of a big configuration: give them back before the hash build */
    ck_drop_names(&y->ck);
    if (layout_hash(&y->arena, &y->diag, t) == -1)
        return YARD_INPUT_ERRORS;
    /* failed expects are reported in the order written */
    expects_evaluate(&y->ck, t, in_order, y->result.expect_count);
    return y->diag.errors > 0 ? YARD_INPUT_ERRORS : YARD_OK;
}

void
yard_free(struct yard *y)
{
    if (y == NULL)
        return;
    arena_free(&y->tree_arena);
    arena_free(&y->arena);
}
