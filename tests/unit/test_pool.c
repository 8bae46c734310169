/* Server choice: smooth weighted round robin, backup servers only when no normal server is
 * up, passive down marking and the retry time. */
#include "pool.h"
#include "unit.h"

#include <string.h>

/* Pool 0: a (weight 1), b (weight 2), c (backup). Pool 1: d, e (weight 1 each). */
static const struct yt_server servers[] = {
    { .weight = 1 }, { .weight = 2 }, { .weight = 1, .flags = YT_SERVER_BACKUP },
    { .weight = 1 }, { .weight = 1 },
};
static const struct yt_pool pools[] = { { .first = 0, .count = 3 }, { .first = 3, .count = 2 } };
static const struct yt_table table = {
    .servers = servers, .server_count = 5, .pools = pools, .pool_count = 2,
};

static void
test_pool_round_robin(void)
{
    struct pool_health h;

    CU_ASSERT_EQUAL_FATAL(pool_health_init(&h, &table), 0);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(pool_pick(&h, 1, 0), 3u + (uint32_t)(i % 2));
    pool_health_free(&h);
}

static void
test_pool_weights_spread(void)
{
    struct pool_health h;
    uint32_t got[9];

    CU_ASSERT_EQUAL_FATAL(pool_health_init(&h, &table), 0);
    for (int i = 0; i < 9; i++)
        got[i] = pool_pick(&h, 0, 0);
    /* b twice as often as a, interleaved, never the backup: b a b | b a b | b a b */
    for (int i = 0; i < 9; i++)
        CU_ASSERT_EQUAL(got[i], i % 3 == 1 ? 0u : 1u);
    pool_health_free(&h);
}

static void
test_pool_down_and_retry(void)
{
    struct pool_health h;

    CU_ASSERT_EQUAL_FATAL(pool_health_init(&h, &table), 0);
    pool_mark_down(&h, 3, 1000, 500);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(pool_pick(&h, 1, 1000 + (uint64_t)i), 4u);
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 1499), 4u);           /* still down */
    CU_ASSERT_EQUAL(h.srv[3].fails, 1u);
    /* At its retry time it takes part again. */
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 1500) == 3u || pool_pick(&h, 1, 1500) == 3u, 1);
    pool_mark_up(&h, 3);
    CU_ASSERT_EQUAL(h.srv[3].fails, 0u);
    CU_ASSERT_EQUAL(h.srv[3].down_until_ms, 0u);
    pool_health_free(&h);
}

static void
test_pool_backup_only_when_all_down(void)
{
    struct pool_health h;

    CU_ASSERT_EQUAL_FATAL(pool_health_init(&h, &table), 0);
    pool_mark_down(&h, 0, 0, 1000);
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 10), 1u);             /* b is still up: no backup */
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 10), 1u);
    pool_mark_down(&h, 1, 10, 1000);
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 20), 2u);             /* all normal ones down */
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 20), 2u);
    pool_mark_down(&h, 2, 20, 1000);
    /* Nothing up at all: the server that comes back first (a, at 1000) is tried. */
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 30), 0u);
    pool_mark_down(&h, 0, 30, 1000);                       /* a failed again: until 1030 */
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 40), 1u);             /* b comes back at 1010 */
    CU_ASSERT_EQUAL(pool_pick(&h, 0, 1010), 1u);           /* b's retry time: it is up */
    pool_health_free(&h);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "round robin", test_pool_round_robin },
        { "weights spread", test_pool_weights_spread },
        { "down and retry", test_pool_down_and_retry },
        { "backup only when all down", test_pool_backup_only_when_all_down },
    };

    return UNIT_RUN("pool", tests);
}
