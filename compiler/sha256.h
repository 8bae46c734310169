/* SHA-256 (FIPS 180-4 §6.2), for the digest of the canonical configuration text. */
#ifndef COMPILER_SHA256_H
#define COMPILER_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A digest taken piece by piece: init, update with each piece in order, final. */
struct sha256_ctx {
    uint32_t st[8];
    uint8_t buf[64];                    /* a block begun, buf_len bytes of it */
    size_t buf_len;
    uint64_t total;                     /* bytes so far */
    bool accelerated;
};

void sha256_init(struct sha256_ctx *c);
/* Adds data[0 .. len) (borrowed; may be NULL when len is 0). */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[32]);

/* Hashes data[0 .. len) (borrowed; may be NULL when len is 0) into out. */
void sha256(const void *data, size_t len, uint8_t out[32]);

/* The same digest with the portable compression function, whatever the CPU offers. sha256()
 * takes the x86 SHA extensions (SHA-NI) where the CPU has them, so on such machines this is
 * the only way to run the portable code: the tests compare the two. */
void sha256_portable(const void *data, size_t len, uint8_t out[32]);

/* Whether sha256() uses the CPU's SHA extensions on this machine. */
bool sha256_accelerated(void);

/* A digest as 64 lowercase hex digits and a NUL. */
void sha256_hex_of(const uint8_t d[32], char out[65]);

/* The same digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
