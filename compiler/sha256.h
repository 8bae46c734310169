/* SHA-256 (FIPS 180-4 §6.2), for the digest of the canonical configuration text. */
#ifndef COMPILER_SHA256_H
#define COMPILER_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Hashes data[0 .. len) (borrowed; may be NULL when len is 0) into out. */
void sha256(const void *data, size_t len, uint8_t out[32]);

/* The same digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
