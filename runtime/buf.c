#include "buf.h"

#include <stdlib.h>
#include <string.h>

void
buf_pool_init(struct buf_pool *p, uint32_t cap, uint32_t headroom, uint32_t free_max)
{
    *p = (struct buf_pool){ .cap = cap, .headroom = headroom, .free_max = free_max };
}

void
buf_pool_trim(struct buf_pool *p)
{
    while (p->free != NULL) {
        struct buf *b = p->free;

        p->free = b->next;
        free(b);
    }
    p->free_count = 0;
}

struct buf *
buf_get(struct buf_pool *p)
{
    struct buf *b = p->free;

    if (b != NULL) {
        p->free = b->next;
        p->free_count--;
    } else {
        b = malloc(sizeof(*b) + p->cap);
        if (b == NULL)
            return NULL;
        b->pool = p;
        b->cap = p->cap;
    }
    b->next = NULL;
    b->start = b->end = p->headroom;
    p->in_use++;
    return b;
}

void
buf_put(struct buf *b)
{
    struct buf_pool *p;

    if (b == NULL)
        return;
    p = b->pool;
    p->in_use--;
    if (p->free_count >= p->free_max) {
        free(b);
        return;
    }
    b->next = p->free;
    p->free = b;
    p->free_count++;
}

void
buf_compact(struct buf *b)
{
    uint32_t head = b->pool->headroom;
    size_t n = buf_len(b);

    if (b->start == head || (b->start < b->cap / 2 && b->end < b->cap))
        return;
    memmove(b->data + head, b->data + b->start, n);
    b->start = head;
    b->end = head + (uint32_t)n;
}
