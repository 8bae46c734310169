/* Unit tests for runtime/body.c: where request and response bodies end. */
#include "body.h"
#include "unit.h"

#include <string.h>

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static void
test_length_in_pieces(void)
{
    struct body b;
    size_t used;

    body_start(&b, HH_BODY_LENGTH, 5);
    CU_ASSERT_EQUAL(body_want(&b), 5);
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("hel"), &used), HH_NEED_MORE);
    CU_ASSERT_EQUAL(used, 3);
    CU_ASSERT_FALSE(body_is_done(&b));
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("loGET / HTTP/1.1"), &used), HH_OK);
    CU_ASSERT_EQUAL(used, 2);
    CU_ASSERT(body_is_done(&b));
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("GET"), &used), HH_OK);
    CU_ASSERT_EQUAL(used, 0);
}

static void
test_length_spliced(void)
{
    struct body b;
    size_t used;

    body_start(&b, HH_BODY_LENGTH, 100);
    body_took(&b, 60);
    CU_ASSERT_EQUAL(body_want(&b), 40);
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("0123456789"), &used), HH_NEED_MORE);
    body_took(&b, 30);
    CU_ASSERT(body_is_done(&b));
    CU_ASSERT_EQUAL(body_want(&b), 0);
}

static void
test_chunked(void)
{
    struct body b;
    size_t used;

    body_start(&b, HH_BODY_CHUNKED, 0);
    CU_ASSERT_EQUAL(body_want(&b), 0);
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("3\r\nabc\r\n"), &used), HH_NEED_MORE);
    CU_ASSERT_EQUAL(used, 8);
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("0\r\n\r\nNEXT"), &used), HH_OK);
    CU_ASSERT_EQUAL(used, 5);
    CU_ASSERT(body_is_done(&b));
    body_start(&b, HH_BODY_CHUNKED, 0);
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("zz\r\n"), &used), HH_ERR_CHUNK_SIZE);
    CU_ASSERT_EQUAL(used, 0);
    CU_ASSERT_FALSE(body_is_done(&b));
}

static void
test_until_close_and_none(void)
{
    struct body b;
    size_t used;

    body_start(&b, HH_BODY_CLOSE, 7);
    CU_ASSERT_EQUAL(body_want(&b), SIZE_MAX);
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("anything at all"), &used), HH_NEED_MORE);
    CU_ASSERT_EQUAL(used, 15);
    body_start(&b, HH_BODY_TUNNEL, 0);
    CU_ASSERT_EQUAL(b.phase, BODY_CLOSE);
    body_start(&b, HH_BODY_NONE, 12);      /* a length without a body: HEAD, 304 */
    CU_ASSERT(body_is_done(&b));
    CU_ASSERT_EQUAL(body_frame(&b, BYTES("HTTP/1.1"), &used), HH_OK);
    CU_ASSERT_EQUAL(used, 0);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "length in pieces", test_length_in_pieces },
        { "length spliced", test_length_spliced },
        { "chunked", test_chunked },
        { "until close, and none", test_until_close_and_none },
    };

    return UNIT_RUN("body", tests);
}
