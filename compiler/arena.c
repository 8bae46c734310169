#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (256u * 1024u)
#define ARENA_ALIGN 16u

struct arena_chunk {
    struct arena_chunk *next;
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
    a->pos = a->end = NULL;
    a->total = 0;
}

void
arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    while (a->head != NULL) {
        struct arena_chunk *next = a->head->next;

        free(a->head);
        a->head = next;
    }
    arena_init(a);
}

void *
arena_alloc(struct arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct arena_chunk *c;
    size_t cap;
    char *p;

    if (need < size)
        arena_oom();
    if (need <= (size_t)(a->end - a->pos)) {
        p = a->pos;
        a->pos += need;
        return p;
    }
    /* Big requests get a chunk of their own behind the current one, so the free space
     * of the current chunk is not wasted. */
    cap = need > ARENA_CHUNK / 4 ? need : ARENA_CHUNK;
    if (cap > SIZE_MAX - sizeof(*c))
        arena_oom();
    c = malloc(sizeof(*c) + cap);
    if (c == NULL)
        arena_oom();
    a->total += sizeof(*c) + cap;
    p = (char *)c->align;
    if (cap != ARENA_CHUNK && a->head != NULL) {
        c->next = a->head->next;
        a->head->next = c;
        return p;
    }
    c->next = a->head;
    a->head = c;
    a->pos = p + need;
    a->end = p + cap;
    return p;
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
    char *p = arena_alloc(a, len + 1);

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
        p = arena_alloc(b->arena, cap);
        if (b->len)
            memcpy(p, b->data, b->len);
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
        d = arena_alloc(v->arena, (size_t)cap * v->size);
        if (v->count)
            memcpy(d, v->data, (size_t)v->count * v->size);
        v->data = d;
        v->cap = cap;
    }
    p = (char *)v->data + (size_t)v->count++ * v->size;
    memset(p, 0, v->size);
    return p;
}
