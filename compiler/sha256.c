/* SHA-256 as specified in FIPS 180-4: §4.2.2 constants, §5.1.1 padding, §6.2.2 the
 * compression function. Words are read and written big-endian, whatever the host. */
#include "sha256.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t
ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void
compress(uint32_t st[8], const uint8_t block[64])
{
    uint32_t w[64], a, b, c, d, e, f, g, h;

    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
                      k256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

        h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    st[0] += a, st[1] += b, st[2] += c, st[3] += d;
    st[4] += e, st[5] += f, st[6] += g, st[7] += h;
}

#ifdef HAVE_SHA_NI
/* The same compression with the x86 SHA extensions, on blocks[0 .. count): about five
 * times faster, and the canonical text of a million sites is ~40 MB. Four rounds per
 * step; W[g] for g >= 4 comes from msg1/msg2 over the four previous groups. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
compress_ni(uint32_t st[8], const uint8_t *blocks, size_t count)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
    __m128i s0, s1, tmp, msg, m[4], abef, cdgh;

    tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xb1);   /* CDAB */
    s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1b);    /* EFGH */
    s0 = _mm_alignr_epi8(tmp, s1, 8);                                          /* ABEF */
    s1 = _mm_blend_epi16(s1, tmp, 0xf0);                                       /* CDGH */
    for (; count > 0; count--, blocks += 64) {
        abef = s0;
        cdgh = s1;
        for (int g = 0; g < 16; g++) {
            if (g < 4) {
                m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 16 * g)),
                                        swap);
            } else {
                __m128i w1 = _mm_sha256msg1_epu32(m[g & 3], m[(g - 3) & 3]);

                w1 = _mm_add_epi32(w1, _mm_alignr_epi8(m[(g - 1) & 3], m[(g - 2) & 3], 4));
                m[g & 3] = _mm_sha256msg2_epu32(w1, m[(g - 1) & 3]);
            }
            msg = _mm_add_epi32(m[g & 3], _mm_loadu_si128((const __m128i *)&k256[4 * g]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0e));
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    tmp = _mm_shuffle_epi32(s0, 0x1b);                                         /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xb1);                                          /* DCHG */
    _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(tmp, s1, 0xf0));       /* DCBA */
    _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(s1, tmp, 8));          /* HGFE */
}

static bool
have_sha_ni(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

static void
compress_blocks(uint32_t st[8], const uint8_t *blocks, size_t count, bool accelerated)
{
#ifdef HAVE_SHA_NI
    if (accelerated) {
        compress_ni(st, blocks, count);
        return;
    }
#else
    (void)accelerated;
#endif
    for (; count > 0; count--, blocks += 64)
        compress(st, blocks);
}

bool
sha256_accelerated(void)
{
#ifdef HAVE_SHA_NI
    return have_sha_ni();
#else
    return false;
#endif
}

void
sha256_init(struct sha256_ctx *c)
{
    static const uint32_t iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };

    memcpy(c->st, iv, sizeof(iv));
    c->total = 0;
    c->buf_len = 0;
    c->accelerated = sha256_accelerated();
}

void
sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    c->total += len;
    if (c->buf_len > 0) {
        size_t n = len < 64 - c->buf_len ? len : 64 - c->buf_len;

        memcpy(c->buf + c->buf_len, p, n);
        c->buf_len += n;
        p += n;
        len -= n;
        if (c->buf_len < 64)
            return;
        compress_blocks(c->st, c->buf, 1, c->accelerated);
        c->buf_len = 0;
    }
    compress_blocks(c->st, p, len / 64, c->accelerated);
    p += len / 64 * 64;
    c->buf_len = len % 64;
    if (c->buf_len > 0)
        memcpy(c->buf, p, c->buf_len);
}

void
sha256_final(struct sha256_ctx *c, uint8_t out[32])
{
    uint8_t tail[128] = { 0 };
    size_t tail_len = c->buf_len < 56 ? 64 : 128;
    uint64_t bits = c->total * 8;

    /* Padding (§5.1.1): the last bytes, 0x80, zeros, then the length in bits. */
    if (c->buf_len > 0)
        memcpy(tail, c->buf, c->buf_len);
    tail[c->buf_len] = 0x80;
    for (int i = 0; i < 8; i++)
        tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress_blocks(c->st, tail, tail_len / 64, c->accelerated);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->st[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->st[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->st[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->st[i];
    }
}

static void
digest(const void *data, size_t len, uint8_t out[32], bool accelerated)
{
    struct sha256_ctx c;

    sha256_init(&c);
    c.accelerated = accelerated;
    sha256_update(&c, data, len);
    sha256_final(&c, out);
}

void
sha256(const void *data, size_t len, uint8_t out[32])
{
    digest(data, len, out, sha256_accelerated());
}

void
sha256_portable(const void *data, size_t len, uint8_t out[32])
{
    digest(data, len, out, false);
}

void
sha256_hex_of(const uint8_t d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];

    sha256(data, len, d);
    sha256_hex_of(d, out);
}
