/* Byte classes of HTTP/1.1 heads and chunked bodies, shared by httphead.c,
 * httpchunk.c and rewrite.c. Private to them; pure. */
#ifndef RUNTIME_HTTPCHAR_H
#define RUNTIME_HTTPCHAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Character classes of RFC 9110 §5.6.2 (tchar), RFC 3986 (target) and RFC 9110 §5.5
 * (field values). */

static inline bool
is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static inline bool
is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
hex_value(uint8_t c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline bool
is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Byte classes, one table lookup each (every byte of a head goes through them). */
enum {
    T = 1,                          /* tchar (RFC 9110 §5.6.2) */
    G = 2,                          /* target: unreserved, gen-delims but '#', sub-delims, '%' */
    V = 4,                          /* field-vchar, SP, HTAB: all but controls and DEL */
    E = 8,                          /* CR or LF */
    TV = T | V, GV = G | V, TGV = T | G | V
};

static const uint8_t byte_class[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, V, E, 0, 0, E, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ V, TGV, V, TV, TGV, TGV, TGV, TGV, GV, GV, TGV, TGV, GV, TGV, TGV, GV,
    /* 0x30 */ TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, GV, GV, V, GV, V, GV,
    /* 0x40 */ GV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV,
    /* 0x50 */ TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, GV, V, GV, TV, TGV,
    /* 0x60 */ TV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV,
    /* 0x70 */ TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, TGV, V, TV, V, TGV, 0,
    /* 0x80 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0x90 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0xa0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0xb0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0xc0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0xd0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0xe0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
    /* 0xf0 */ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
};

static inline bool
is_tchar(uint8_t c)
{
    return byte_class[c] & T;
}

/* unreserved, gen-delims except '#', sub-delims and '%' (RFC 3986 §2). */
static inline bool
is_target_char(uint8_t c)
{
    return byte_class[c] & G;
}

/* field-vchar, SP and HTAB: everything but controls and DEL. */
static inline bool
is_value_char(uint8_t c)
{
    return byte_class[c] & V;
}

static inline bool
is_eol_char(uint8_t c)
{
    return byte_class[c] & E;
}

static inline uint8_t
to_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* Compares p[0..n) with the lowercase literal lit, ignoring ASCII case. */
static inline bool
ieq(const uint8_t *p, size_t n, const char *lit)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (lit[i] == '\0' || to_lower(p[i]) != (uint8_t)lit[i])
            return false;
    return lit[i] == '\0';
}

#endif
