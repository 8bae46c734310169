/* libFuzzer harness for pp_parse() in runtime/proxyproto.c. Besides memory errors it checks
 * what the parser promises: a deterministic verdict, a header length within the input and
 * the version's bound, PP_NEED_MORE for every strict prefix of an accepted header and the
 * same verdict for every longer input, errors that stay errors, and carried addresses of
 * the families a TCP client can have; an accepted TCP header rebuilt by the sender reads
 * back to the same addresses. */
#include "proxyproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz_proxyproto: %s:%d: invariant failed: %s\n", __FILE__, \
                    __LINE__, #cond);                                                  \
            abort();                                                                   \
        }                                                                              \
    } while (0)

static bool
is_error(enum pp_result r)
{
    return r != PP_NEED_MORE && r != PP_NONE && r != PP_OK;
}

static bool
same(enum pp_result ra, const struct pp_header *a, enum pp_result rb, const struct pp_header *b)
{
    return ra == rb && memcmp(a, b, sizeof(*a)) == 0;
}

static void
check_addrs(const struct pp_header *h)
{
    if (h->local) {
        CHECK(h->src.sa.sa_family == 0 && h->dst.sa.sa_family == 0);
        return;
    }
    CHECK(h->src.sa.sa_family == AF_INET || h->src.sa.sa_family == AF_INET6);
    CHECK(h->src.sa.sa_family == h->dst.sa.sa_family);
}

/* The sender writes the carried addresses back; they read the same. */
static void
check_round_trip(const struct pp_header *h)
{
    uint8_t out[PP_V1_MAX + 1];
    struct pp_header back;
    size_t n;

    if (h->local)
        return;
    n = h->version == 1 ? pp_build_v1(&h->src.sa, &h->dst.sa, (char *)out, sizeof(out))
                        : pp_build_v2(&h->src.sa, &h->dst.sa, out, sizeof(out));
    CHECK(n > 0);
    CHECK(pp_parse(out, n, &back) == PP_OK && back.len == n);
    /* IPv4-mapped ends are written as IPv4 by the sender: compare through the text. */
    if (h->src.sa.sa_family == back.src.sa.sa_family) {
        CHECK(memcmp(&h->src, &back.src, sizeof(h->src)) == 0);
        CHECK(memcmp(&h->dst, &back.dst, sizeof(h->dst)) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct pp_header whole, again, part;
    enum pp_result r = pp_parse(data, len, &whole), rp;

    CHECK((unsigned)r < PP_RESULT_COUNT);
    CHECK(strcmp(pp_result_str(r), "proxy-unknown") != 0);
    CHECK(same(r, &whole, pp_parse(data, len, &again), &again));
    if (r != PP_OK) {
        /* A prefix of a refused or unfinished input is never accepted. */
        if (len > 0) {
            rp = pp_parse(data, len - 1, &part);
            CHECK(rp != PP_OK);
            if (is_error(rp))
                CHECK(is_error(r));
            if (r == PP_NEED_MORE)
                CHECK(rp == PP_NEED_MORE);
        }
        return 0;
    }
    CHECK(whole.len > 0 && whole.len <= len);
    CHECK(whole.version == 1 ? whole.len <= PP_V1_MAX : whole.len <= PP_V2_RECV_MAX);
    check_addrs(&whole);
    for (size_t n = 0; n < whole.len; n++)
        CHECK(pp_parse(data, n, &part) == PP_NEED_MORE);
    CHECK(same(r, &whole, pp_parse(data, whole.len, &part), &part));
    check_round_trip(&whole);
    return 0;
}
