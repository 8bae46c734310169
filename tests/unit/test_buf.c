/* The buffer pool: buffers are reused, bounded in what the pool keeps, start empty at the
 * headroom; compacting keeps the headroom and the pending bytes. */
#include "buf.h"

#include <CUnit/Basic.h>
#include <string.h>

static void
test_buf_get_put_reuses(void)
{
    struct buf_pool p;
    struct buf *a, *b;

    buf_pool_init(&p, BUF_CAP, 0, 4);
    a = buf_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->cap, BUF_CAP);
    CU_ASSERT_TRUE(buf_is_empty(a));
    CU_ASSERT_EQUAL(buf_room(a), BUF_CAP);
    CU_ASSERT_EQUAL(p.in_use, 1);
    a->end = 100;
    buf_put(a);
    CU_ASSERT_EQUAL(p.in_use, 0);
    CU_ASSERT_EQUAL(p.free_count, 1);
    b = buf_get(&p);
    CU_ASSERT_PTR_EQUAL(b, a);              /* the same memory comes back ... */
    CU_ASSERT_TRUE(buf_is_empty(b));        /* ... empty */
    buf_put(b);
    buf_put(NULL);                          /* accepted, does nothing */
    CU_ASSERT_EQUAL(p.in_use, 0);
    buf_pool_trim(&p);
    CU_ASSERT_EQUAL(p.free_count, 0);
    CU_ASSERT_PTR_NULL(p.free);
}

static void
test_buf_pool_keeps_at_most_free_max(void)
{
    struct buf_pool p;
    struct buf *b[10];

    buf_pool_init(&p, 64, 0, 3);
    for (int i = 0; i < 10; i++) {
        b[i] = buf_get(&p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b[i]);
    }
    CU_ASSERT_EQUAL(p.in_use, 10);
    for (int i = 0; i < 10; i++)
        buf_put(b[i]);
    CU_ASSERT_EQUAL(p.in_use, 0);
    CU_ASSERT_EQUAL(p.free_count, 3);
    buf_pool_trim(&p);
}

static void
test_buf_headroom(void)
{
    struct buf_pool p;
    struct buf *b;

    buf_pool_init(&p, 256, 32, 1);
    b = buf_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(b->start, 32);
    CU_ASSERT_EQUAL(b->end, 32);
    CU_ASSERT_EQUAL(buf_room(b), 224);
    CU_ASSERT_FALSE(buf_is_full(b));
    b->end = 256;                           /* 224 bytes: all that fits after the headroom */
    CU_ASSERT_TRUE(buf_is_full(b));
    b->start -= 8;                          /* a header prepended into the headroom */
    CU_ASSERT_EQUAL(buf_len(b), 232);
    buf_put(b);
    buf_pool_trim(&p);
}

static void
test_buf_compact(void)
{
    struct buf_pool p;
    struct buf *b;

    buf_pool_init(&p, 100, 10, 1);
    b = buf_get(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (int i = 0; i < 100; i++)
        b->data[i] = (uint8_t)i;
    b->start = 40;                          /* before half, room left: stays */
    b->end = 60;
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 40);
    b->start = 55;                          /* past half: moved back to the headroom */
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 10);
    CU_ASSERT_EQUAL(b->end, 15);
    CU_ASSERT_EQUAL(b->data[10], 55);
    CU_ASSERT_EQUAL(b->data[14], 59);
    b->start = 20;                          /* before half but no room at the end: moved */
    b->end = 100;
    b->data[20] = 0xaa;
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 10);
    CU_ASSERT_EQUAL(b->end, 90);
    CU_ASSERT_EQUAL(b->data[10], 0xaa);
    b->start = b->end = 10;                 /* empty at the headroom: nothing to do */
    buf_compact(b);
    CU_ASSERT_EQUAL(b->start, 10);
    buf_put(b);
    buf_pool_trim(&p);
}

int
main(void)
{
    CU_pSuite s;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("buf", NULL, NULL);
    if (s == NULL || CU_add_test(s, "get and put reuse", test_buf_get_put_reuses) == NULL ||
        CU_add_test(s, "pool keeps at most free_max", test_buf_pool_keeps_at_most_free_max) == NULL ||
        CU_add_test(s, "headroom", test_buf_headroom) == NULL ||
        CU_add_test(s, "compact", test_buf_compact) == NULL) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures == 0 ? 0 : 1;
}
