/* One arena per compilation: every AST node, string and table array of a yardc run comes
 * from here and is released at once by arena_free(), so no pass needs to free anything
 * and the grammar needs no %destructor.
 *
 * Out of memory is not recoverable for a compiler run: the allocator reports it and
 * exits with status 2 (an I/O-class failure, not an input error). */
#ifndef COMPILER_ARENA_H
#define COMPILER_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;       /* small allocations, newest chunk first */
    struct arena_chunk *big;        /* one chunk per big allocation, doubly linked */
    char *pos, *end;                /* free space in head */
    size_t total;                   /* bytes obtained from malloc, for limits and stats */
};

/* An allocation of more than this many bytes is big: it gets a malloc() block of its own,
 * which arena_grow() can resize in place (for large blocks the C library remaps pages
 * instead of copying them) and arena_release() can give back before the end of the run. */
#define ARENA_BIG (64u * 1024u)

void arena_init(struct arena *a);
/* Releases every allocation at once and re-initialises *a; accepts NULL. */
void arena_free(struct arena *a);

/* Returns owned-by-arena memory of size bytes, aligned for any type; never NULL. */
void *arena_alloc(struct arena *a, size_t size);
/* The same, zero-filled. */
void *arena_zalloc(struct arena *a, size_t size);
/* Array of count elements of size bytes, zero-filled; refuses overflowing products. */
void *arena_calloc(struct arena *a, size_t count, size_t size);
/* Resizes p, from arena_alloc(a, old_size) or an earlier arena_grow(), to new_size >=
 * old_size bytes, keeping its first used bytes; returns the new address (p is invalid
 * then). A small block is copied and its old space abandoned; a big one is resized.
 * p NULL: a plain arena_alloc(). */
void *arena_grow(struct arena *a, void *p, size_t used, size_t old_size, size_t new_size);
/* Gives p (old_size bytes, as allocated) back early when it is big; a no-op otherwise or
 * for NULL. p is invalid afterwards. */
void arena_release(struct arena *a, void *p, size_t old_size);
/* Copy of s[0..len) with a terminating NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable byte string in the arena. Growing doubles the capacity with arena_grow():
 * a big buffer is resized in place, so it costs its final size only. */
struct abuf {
    struct arena *arena;
    char *data;
    size_t len, cap;
};

void abuf_init(struct abuf *b, struct arena *a);
/* Makes room for n more bytes and returns where they go (len is not changed). */
char *abuf_reserve(struct abuf *b, size_t n);
void abuf_add(struct abuf *b, const void *data, size_t len);
void abuf_addc(struct abuf *b, char c);
void abuf_adds(struct abuf *b, const char *s);
void abuf_printf(struct abuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable array of elements of one size, same growth rule. */
struct avec {
    struct arena *arena;
    void *data;
    uint32_t count, cap;
    uint32_t size;                  /* bytes per element */
};

void avec_init(struct avec *v, struct arena *a, uint32_t size);
/* Appends one zero-filled element and returns it; never NULL. */
void *avec_push(struct avec *v);
#define AVEC_AT(v, type, i) (&((type *)(v)->data)[i])

#endif
