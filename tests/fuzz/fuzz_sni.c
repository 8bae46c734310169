/* libFuzzer harness for runtime/sni.c. Besides memory errors it checks what sni_parse()
 * promises: a deterministic verdict, a clean name, SNI_NEED_MORE exactly for strict
 * prefixes of a valid hello, errors that stay errors, records that may be cut anywhere;
 * and that reading the input in pieces as a connection does (sni_scan() after each piece,
 * sni_parse() once it says so) comes to the verdict of one parse of the whole. */
#include "sni.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_HEADER_LEN 5
#define RECORD_MAX 16384
/* A valid hello up to this long has every prefix checked; a longer one has the prefixes
 * around the end of its hello and PREFIX_SAMPLES others, so the fuzzer keeps its pace. */
#define ALL_PREFIXES_MAX 1024
#define PREFIX_SAMPLES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz_sni: %s:%d: invariant failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                                  \
            abort();                                                                   \
        }                                                                              \
    } while (0)

struct verdict {
    enum sni_result r;
    char name[SNI_NAME_MAX + 1];
    size_t name_len;
};

static void
run(const uint8_t *data, size_t len, struct verdict *v)
{
    memset(v->name, 0, sizeof(v->name));
    v->name_len = 0;
    v->r = sni_parse(data, len, v->name, &v->name_len);
}

static bool
is_accepted(enum sni_result r)
{
    return r == SNI_FOUND || r == SNI_NO_SNI;
}

static bool
is_refused(enum sni_result r)
{
    return r != SNI_NEED_MORE && !is_accepted(r);
}

static bool
same(const struct verdict *a, const struct verdict *b)
{
    return a->r == b->r &&
           (a->r != SNI_FOUND || (a->name_len == b->name_len && strcmp(a->name, b->name) == 0));
}

/* A returned name is lowercase LDH labels of 1..63 bytes, at most 253 in all, no dot at
 * either end. */
static void
check_name(const struct verdict *v)
{
    size_t label = 0;

    CHECK(v->name_len >= 1 && v->name_len <= SNI_NAME_MAX);
    CHECK(strlen(v->name) == v->name_len);
    for (size_t i = 0; i < v->name_len; i++) {
        char c = v->name[i];

        if (c == '.') {
            CHECK(label > 0);
            label = 0;
            continue;
        }
        CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
        CHECK(++label <= 63);
    }
    CHECK(label > 0);
}

/* How a prefix's verdict must relate to the whole input's. */
static void
check_prefix(const struct verdict *whole, const struct verdict *part)
{
    if (is_accepted(part->r))
        CHECK(same(part, whole));       /* bytes after a whole hello are not looked at */
    if (is_refused(part->r))
        CHECK(is_refused(whole->r));    /* an error is final */
    if (whole->r == SNI_NEED_MORE)
        CHECK(part->r == SNI_NEED_MORE);
}

/* Cuts the hello of a one-record input into two records at a point taken from the input:
 * the verdict must not change (RFC 8446 §5.1 lets clients fragment as they like). */
static void
check_resplit(const uint8_t *data, size_t len, const struct verdict *whole)
{
    static uint8_t buf[2 * RECORD_HEADER_LEN + RECORD_MAX];
    struct verdict v;
    size_t frag = len - RECORD_HEADER_LEN, cut;

    if (len <= RECORD_HEADER_LEN + 1 || frag > RECORD_MAX ||
        (size_t)(data[3] << 8 | data[4]) != frag)
        return;
    cut = 1 + (data[len - 1] * 131u + len) % (frag - 1);
    memcpy(buf, data, RECORD_HEADER_LEN + cut);
    buf[3] = (uint8_t)(cut >> 8);
    buf[4] = (uint8_t)cut;
    memcpy(buf + RECORD_HEADER_LEN + cut, data, RECORD_HEADER_LEN);
    buf[RECORD_HEADER_LEN + cut + 1] = 0x03;
    buf[RECORD_HEADER_LEN + cut + 2] = 0x03;
    buf[RECORD_HEADER_LEN + cut + 3] = (uint8_t)((frag - cut) >> 8);
    buf[RECORD_HEADER_LEN + cut + 4] = (uint8_t)(frag - cut);
    memcpy(buf + 2 * RECORD_HEADER_LEN + cut, data + RECORD_HEADER_LEN + cut, frag - cut);
    run(buf, len + RECORD_HEADER_LEN, &v);
    CHECK(same(&v, whole));
}

/* Feeds the input to sni_scan() in pieces of 1 to 4096 bytes, sizes drawn from a generator
 * seeded by the input, and parses once the scan says so: the verdict of the whole input,
 * but for an error in a body that the scan does not read, which may wait for the end. */
static void
check_pieces(const uint8_t *data, size_t len, const struct verdict *whole)
{
    struct sni_scan scan = { 0 }, fresh = { 0 };
    struct verdict v = { .r = SNI_NEED_MORE };
    uint32_t seed = (uint32_t)len * 2654435761u;
    size_t n = 0;

    for (size_t i = 0; i < len && i < 64; i++)
        seed = seed * 31 + data[i];
    for (;;) {
        enum sni_result r = sni_scan(&scan, data, n);

        if (r != SNI_NEED_MORE) {
            run(data, n, &v);
            CHECK(v.r != SNI_NEED_MORE);
            CHECK(r == SNI_COMPLETE || is_refused(v.r));
            break;
        }
        if (n == len)
            break;
        seed = seed * 1103515245u + 12345u;
        n += 1 + (seed >> 8) % ((seed & 1) ? 16 : 4096);
        if (n > len)
            n = len;
    }
    if (is_accepted(whole->r))
        CHECK(same(&v, whole));
    else if (whole->r == SNI_NEED_MORE)
        CHECK(v.r == SNI_NEED_MORE);
    else
        CHECK(is_refused(v.r) || v.r == SNI_NEED_MORE);
    /* Where the scan stopped, a scan from nothing stops too, with the same answer. */
    if (v.r == SNI_NEED_MORE)
        CHECK(sni_scan(&fresh, data, len) == SNI_NEED_MORE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct verdict whole, again, part;

    run(data, len, &whole);
    CHECK(whole.r >= SNI_FOUND && whole.r <= SNI_ERR_TRAILING);
    CHECK(strcmp(sni_result_str(whole.r), "unknown") != 0);
    run(data, len, &again);
    CHECK(same(&whole, &again));
    if (whole.r == SNI_FOUND)
        check_name(&whole);
    check_pieces(data, len, &whole);

    if (is_accepted(whole.r) && len <= ALL_PREFIXES_MAX) {
        /* NEED_MORE up to the end of the hello, then the same verdict. */
        bool done = false;

        for (size_t n = 0; n < len; n++) {
            run(data, n, &part);
            if (!done)
                done = part.r != SNI_NEED_MORE;
            CHECK(done ? same(&part, &whole) : part.r == SNI_NEED_MORE);
        }
        check_resplit(data, len, &whole);
    } else if (is_accepted(whole.r)) {
        /* end: the shortest accepted prefix, found assuming the property checked here. */
        size_t lo = 0, end = len;

        while (lo < end) {
            size_t mid = lo + (end - lo) / 2;

            run(data, mid, &part);
            if (part.r == SNI_NEED_MORE)
                lo = mid + 1;
            else
                end = mid;
        }
        CHECK(end > 0);
        run(data, end - 1, &part);
        CHECK(part.r == SNI_NEED_MORE);
        run(data, end, &part);
        CHECK(same(&part, &whole));
        for (size_t i = 0; i < PREFIX_SAMPLES; i++) {
            size_t n = len * i / PREFIX_SAMPLES;

            run(data, n, &part);
            CHECK(n < end ? part.r == SNI_NEED_MORE : same(&part, &whole));
        }
        check_resplit(data, len, &whole);
    } else if (len > 0) {
        size_t cuts[3] = { len - 1, len / 2, (data[0] * 257u + data[len - 1]) % len };

        for (size_t i = 0; i < 3; i++) {
            run(data, cuts[i], &part);
            check_prefix(&whole, &part);
        }
    }
    return 0;
}
