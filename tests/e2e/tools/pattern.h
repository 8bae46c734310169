/* The deterministic byte stream and checksum shared by the e2e tools. */
#ifndef TESTS_E2E_TOOLS_PATTERN_H
#define TESTS_E2E_TOOLS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define FNV_INIT 0xcbf29ce484222325ull

/* Byte number off of the pattern: a hash of the offset, so a lost, duplicated or
 * reordered chunk shows up at once. */
static inline uint8_t
pattern_byte(uint64_t off)
{
    uint64_t x = off * 0x9e3779b97f4a7c15ull;

    return (uint8_t)(x >> 56 ^ x >> 29);
}

static inline void
pattern_fill(uint8_t *p, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = pattern_byte(off + i);
}

/* FNV-1a, 64 bits. */
static inline uint64_t
fnv_update(uint64_t h, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

#endif
