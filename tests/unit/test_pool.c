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

/* Active checks: fall failures in a row take a server down, rise passes bring it back;
 * a pass or a failure in between starts the count again. */
static void
test_pool_check_rise_fall(void)
{
    struct pool_check c = { .checked = 1 };

    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_SAME);
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_SAME);
    CU_ASSERT_EQUAL(pool_check_result(&c, true, 2, 3), POOL_SAME);     /* resets fails */
    CU_ASSERT_EQUAL(c.fails, 0u);
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_SAME);
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_SAME);
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_WENT_DOWN);
    CU_ASSERT_EQUAL(c.down, 1);
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_SAME);    /* still down */
    CU_ASSERT_EQUAL(pool_check_result(&c, true, 2, 3), POOL_SAME);
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 2, 3), POOL_SAME);    /* resets passes */
    CU_ASSERT_EQUAL(c.passes, 0u);
    CU_ASSERT_EQUAL(pool_check_result(&c, true, 2, 3), POOL_SAME);
    CU_ASSERT_EQUAL(pool_check_result(&c, true, 2, 3), POOL_WENT_UP);
    CU_ASSERT_EQUAL(c.down, 0);
    /* rise 1, fall 1: every result decides */
    CU_ASSERT_EQUAL(pool_check_result(&c, false, 1, 1), POOL_WENT_DOWN);
    CU_ASSERT_EQUAL(pool_check_result(&c, true, 1, 1), POOL_WENT_UP);
}

/* A checked server is chosen by its checks' verdict, not by the retry time; a failed
 * connect marks it down at once and only rise passes bring it back. */
static void
test_pool_checked_server_follows_checks(void)
{
    struct pool_check chk[5] = { [3] = { .checked = 1 }, [4] = { .checked = 1 } };
    struct pool_health h;

    CU_ASSERT_EQUAL_FATAL(pool_health_init(&h, &table), 0);
    pool_health_attach(&h, chk, NULL);
    for (int i = 0; i < 3; i++)
        pool_check_result(&chk[3], false, 2, 3);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(pool_pick(&h, 1, 0), 4u);
    CU_ASSERT_EQUAL(pool_mark_down(&h, 4, 0, 500), POOL_WENT_DOWN);
    CU_ASSERT_EQUAL(pool_mark_down(&h, 4, 0, 500), POOL_SAME);         /* already down */
    CU_ASSERT_EQUAL(chk[4].down, 1);
    /* Both down: the last resort is still a connect attempt (the earliest retry time). */
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 100), 3u);
    /* The retry time passing does not bring a checked server back ... */
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 10000), 3u);
    pool_mark_up(&h, 4);
    CU_ASSERT_EQUAL(chk[4].down, 1);                       /* ... nor a lucky connect */
    CU_ASSERT(!pool_server_may_reuse(&h, 4));               /* down by its checks */
    pool_check_result(&chk[4], true, 2, 3);
    CU_ASSERT_EQUAL(pool_check_result(&chk[4], true, 2, 3), POOL_WENT_UP);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(pool_pick(&h, 1, 10000), 4u);
    pool_health_free(&h);
}

/* A server in maintenance gets nothing, not even as the last resort. */
static void
test_pool_maintenance(void)
{
    uint32_t admin[5] = { 0 };
    struct pool_health h;

    CU_ASSERT_EQUAL_FATAL(pool_health_init(&h, &table), 0);
    pool_health_attach(&h, NULL, admin);
    admin[4] = POOL_ADMIN_MAINT;
    CU_ASSERT(pool_server_in_maint(&h, 4));
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(pool_pick(&h, 1, 0), 3u);
    pool_mark_down(&h, 3, 0, 1000);
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 10), 3u);             /* down, but 4 is in maintenance */
    admin[3] = POOL_ADMIN_MAINT;
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 10), YT_NONE);        /* both: nothing to try */
    CU_ASSERT(!pool_server_may_reuse(&h, 3));               /* nor on a kept connection */
    admin[3] = admin[4] = 0;
    CU_ASSERT(pool_server_may_reuse(&h, 3));                /* passively down: open ones may */
    CU_ASSERT_EQUAL(pool_pick(&h, 1, 10), 4u);             /* back */
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
        { "check rise and fall", test_pool_check_rise_fall },
        { "checked server follows its checks", test_pool_checked_server_follows_checks },
        { "maintenance", test_pool_maintenance },
    };

    return UNIT_RUN("pool", tests);
}
