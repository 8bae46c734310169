#include "arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (256u * 1024u)
#define ARENA_ALIGN 16u

struct arena_chunk {
    struct arena_chunk *next;
    struct arena_chunk *prev;       /* big chunks only */
    max_align_t align[];            /* the memory handed out follows */
};

static void
arena_oom(void)
{
    fputs("yardc: out of memory\n", stderr);
    exit(2);
}

void
arena_init(struct arena *a)
{
    a->head = NULL;
    a->big = NULL;
    a->pos = a->end = NULL;
    a->total = 0;
}

static void
free_list(struct arena_chunk *c)
{
    while (c != NULL) {
        struct arena_chunk *next = c->next;

        free(c);
        c = next;
    }
}

void
arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    free_list(a->head);
    free_list(a->big);
    arena_init(a);
}

static size_t
aligned(size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    if (need < size || need > SIZE_MAX - sizeof(struct arena_chunk))
        arena_oom();
    return need;
}

static bool
is_big(size_t size)
{
    return aligned(size) > ARENA_BIG;
}

static struct arena_chunk *
chunk_of(void *p)
{
    return (struct arena_chunk *)((char *)p - offsetof(struct arena_chunk, align));
}

void *
arena_alloc(struct arena *a, size_t size)
{
    size_t need = aligned(size);
    struct arena_chunk *c;
    char *p;

    if (need > ARENA_BIG) {
        c = malloc(sizeof(*c) + need);
        if (c == NULL)
            arena_oom();
        a->total += sizeof(*c) + need;
        c->prev = NULL;
        c->next = a->big;
        if (a->big != NULL)
            a->big->prev = c;
        a->big = c;
        return c->align;
    }
    /* Strings leave pos unaligned (see arena_strndup): align it first. The end of a
     * chunk is aligned, so the aligned pos is never past it. */
    if (a->pos != NULL) {
        p = a->pos + (-(uintptr_t)a->pos & (ARENA_ALIGN - 1));
        if (need <= (size_t)(a->end - p)) {
            a->pos = p + need;
            return p;
        }
    }
    c = malloc(sizeof(*c) + ARENA_CHUNK);
    if (c == NULL)
        arena_oom();
    a->total += sizeof(*c) + ARENA_CHUNK;
    c->prev = NULL;
    c->next = a->head;
    a->head = c;
    p = (char *)c->align;
    a->pos = p + need;
    a->end = p + ARENA_CHUNK;
    return p;
}

void *
arena_grow(struct arena *a, void *p, size_t used, size_t old_size, size_t new_size)
{
    struct arena_chunk *c, *n;
    void *q;

    if (p == NULL)
        return arena_alloc(a, new_size);
    if (!is_big(old_size)) {
        q = arena_alloc(a, new_size);
        memcpy(q, p, used);
        return q;
    }
    c = chunk_of(p);
    n = realloc(c, sizeof(*c) + aligned(new_size));
    if (n == NULL)
        arena_oom();
    a->total += aligned(new_size) - aligned(old_size);
    if (n->prev != NULL)
        n->prev->next = n;
    else
        a->big = n;
    if (n->next != NULL)
        n->next->prev = n;
    return n->align;
}

void
arena_release(struct arena *a, void *p, size_t old_size)
{
    struct arena_chunk *c;

    if (p == NULL || !is_big(old_size))
        return;
    c = chunk_of(p);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        a->big = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    a->total -= sizeof(*c) + aligned(old_size);
    free(c);
}

void *
arena_zalloc(struct arena *a, size_t size)
{
    void *p = arena_alloc(a, size);

    memset(p, 0, size);
    return p;
}

void *
arena_calloc(struct arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        arena_oom();
    return arena_zalloc(a, count * size);
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p;

    /* Byte-granular: a million short names would waste a third of their space to
     * alignment. */
    if (a->pos != NULL && len < (size_t)(a->end - a->pos)) {
        p = a->pos;
        a->pos += len + 1;
    } else {
        p = arena_alloc(a, len + 1);
    }

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
abuf_init(struct abuf *b, struct arena *a)
{
    b->arena = a;
    b->data = NULL;
    b->len = b->cap = 0;
}

char *
abuf_reserve(struct abuf *b, size_t n)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;

        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                arena_oom();
            cap *= 2;
        }
        p = arena_grow(b->arena, b->data, b->len, b->cap, cap);
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void
abuf_add(struct abuf *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    memcpy(abuf_reserve(b, len), data, len);
    b->len += len;
}

void
abuf_addc(struct abuf *b, char c)
{
    *abuf_reserve(b, 1) = c;
    b->len++;
}

void
abuf_adds(struct abuf *b, const char *s)
{
    abuf_add(b, s, strlen(s));
}

void
abuf_printf(struct abuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    abuf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
avec_init(struct avec *v, struct arena *a, uint32_t size)
{
    v->arena = a;
    v->data = NULL;
    v->count = v->cap = 0;
    v->size = size;
}

void *
avec_push(struct avec *v)
{
    char *p;

    if (v->count == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 16;
        void *d;

        if (cap < v->cap)
            arena_oom();
        if ((size_t)cap > SIZE_MAX / v->size)
            arena_oom();
        d = arena_grow(v->arena, v->data, (size_t)v->count * v->size,
                       (size_t)v->cap * v->size, (size_t)cap * v->size);
        v->data = d;
        v->cap = cap;
    }
    p = (char *)v->data + (size_t)v->count++ * v->size;
    memset(p, 0, v->size);
    return p;
}
