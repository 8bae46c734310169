/* SHA-256: the FIPS 180-4 example vectors, every padding boundary, and agreement with
 * sha256sum(1) on lengths 0 .. 300 of varied bytes, each through both compression
 * functions (the portable one and, where the CPU has them, the SHA extensions); and the
 * two agreeing on many lengths and alignments. */
#include "sha256.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
to_hex(const uint8_t d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

/* sha256_hex() (the fastest path) and sha256_portable() both give want. */
static void
check_hex(const void *data, size_t len, const char *want)
{
    char got[65], portable[65];
    uint8_t d[32];

    sha256_hex(data, len, got);
    sha256_portable(data, len, d);
    to_hex(d, portable);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT_STRING_EQUAL(portable, want);
    if (strcmp(got, want) != 0 || strcmp(portable, want) != 0)
        fprintf(stderr, "\nlen %zu: got %s, portable %s, want %s\n", len, got, portable, want);
}

static void
fill(uint8_t *data, size_t len, uint32_t x)
{
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
}

/* The SHA-NI path against the portable one: every length to 1100 bytes at four
 * alignments, then a few large ones. */
static void
test_sha256_paths_agree(void)
{
    static const size_t big[] = { 4096, 65535, 65536, 65537, 1000003, 1 << 20 };
    size_t cap = (1 << 20) + 8, diffs = 0;
    uint8_t *data = malloc(cap), a[32], b[32];

    if (!sha256_accelerated()) {
        fprintf(stderr, "\n  SKIP: this CPU has no SHA extensions: sha256() is the "
                "portable code\n");
        free(data);
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    fill(data, cap, 777);
    for (size_t off = 0; off < 4; off++) {
        for (size_t len = 0; len <= 1100; len++) {
            sha256(data + off, len, a);
            sha256_portable(data + off, len, b);
            diffs += memcmp(a, b, 32) != 0;
        }
    }
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        sha256(data + 3, big[i], a);
        sha256_portable(data + 3, big[i], b);
        diffs += memcmp(a, b, 32) != 0;
    }
    CU_ASSERT_EQUAL(diffs, 0);
    free(data);
}

static void
test_sha256_fips_vectors(void)
{
    static const char msg448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    check_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_hex(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_hex(msg448, sizeof(msg448) - 1,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_sha256_million_a(void)
{
    char *a = malloc(1000000);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    memset(a, 'a', 1000000);
    check_hex(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* 55 is the longest message whose padding fits its own block; 56 .. 63 spill the length
 * into a second one; 64 is a whole block. */
static void
test_sha256_block_boundaries(void)
{
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        { 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
        { 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
        { 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
        { 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
        { 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
        { 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
        { 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
        { 127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a" },
        { 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
    };
    char a[128];

    memset(a, 'a', sizeof(a));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        check_hex(a, v[i].len, v[i].hex);
}

/* The same bytes through sha256sum(1); skipped where the tool is missing. */
static void
test_sha256_matches_sha256sum(void)
{
    char dir[] = "/tmp/test_sha256.XXXXXX", path[64], cmd[128], line[128];
    uint8_t data[300], d[32];

    if (system("command -v sha256sum >/dev/null 2>&1") != 0) {
        fprintf(stderr, "\n  sha256sum not found: skipped\n");
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/data", dir);
    fill(data, sizeof(data), 12345);
    for (size_t len = 0; len <= sizeof(data); len++) {
        FILE *f = fopen(path, "wb");
        FILE *p;
        char got[65];

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
        CU_ASSERT_EQUAL(fclose(f), 0);
        snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
        p = popen(cmd, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), p));
        CU_ASSERT_EQUAL(pclose(p), 0);
        sha256_hex(data, len, got);
        CU_ASSERT_EQUAL(strncmp(line, got, 64), 0);
        sha256_portable(data, len, d);
        to_hex(d, got);
        CU_ASSERT_EQUAL(strncmp(line, got, 64), 0);
    }
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "fips vectors", test_sha256_fips_vectors },
        { "million a", test_sha256_million_a },
        { "block boundaries", test_sha256_block_boundaries },
        { "matches sha256sum", test_sha256_matches_sha256sum },
        { "sha-ni and portable agree", test_sha256_paths_agree },
    };

    return UNIT_RUN("sha256", tests);
}
