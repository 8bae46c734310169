/* Unit tests of runtime/metrics.c: the Prometheus text format of the counters of
 * runtime/stats.c, on a small table made here. */
#include "metrics.h"
#include "stats.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names, one after the other: listener "www", pool "one.test/http" with two servers, pool
 * 'odd"pool\x' + newline + 'y' (no table has such a name; the escaping must hold anyway)
 * with one server. */
static const char blob[] = "www"                     /* 0, 3 */
                           "one.test/http"           /* 3, 13 */
                           "[::1]:8001"              /* 16, 10 */
                           "[::1]:8002"              /* 26, 10 */
                           "odd\"pool\\x\ny"         /* 36, 12 */
                           "[::1]:8003";             /* 48, 10 */

static const struct yt_listener listeners[] = {
    { .name = { 0, 3 }, .mode = YT_MODE_HTTP, .fallback_pool = YT_NONE },
};
static const struct yt_pool pools[] = {
    { .name = { 3, 13 }, .first = 0, .count = 2 },
    { .name = { 36, 12 }, .first = 2, .count = 1 },
};
static const struct yt_server servers[] = {
    { .name = { 16, 10 }, .weight = 1 },
    { .name = { 26, 10 }, .weight = 1 },
    { .name = { 48, 10 }, .weight = 1 },
};
static struct yt_table table = {
    .abi = YT_ABI, .blob = blob, .blob_len = sizeof(blob) - 1,
    .pools = pools, .pool_count = 2, .servers = servers, .server_count = 3,
    .listeners = listeners, .listener_count = 1,
    .digest = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
};

static struct metrics_process proc = {
    .version = "1.2.3", .start_time = 1700000000.25, .workers = 2, .maxconn = 500,
    .now_ms = 1000, .list_all_max = METRICS_LIST_ALL_MAX,
};

static char *text;
static size_t text_len;

/* Fresh counters for two workers; worker 0 writes. */
static void
fresh(void)
{
    stats_fini();
    CU_ASSERT_EQUAL_FATAL(stats_init(&table, 2), 0);
    stats_set_worker(0);
}

static void
render(void)
{
    free(text);
    text = metrics_render_all(&table, &proc, &text_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    text = realloc(text, text_len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    text[text_len] = '\0';
}

/* Whether the rendered text has this exact line. */
static bool
has_line(const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static bool
n_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void
test_process_facts(void)
{
    fresh();
    render();
    CU_ASSERT(has_line("# TYPE switchyard_info gauge"));
    CU_ASSERT(has_line("switchyard_info{version=\"1.2.3\",config_digest=\"sha256:"
                       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"} 1"));
    CU_ASSERT(has_line("switchyard_start_time_seconds 1700000000.250"));
    CU_ASSERT(has_line("switchyard_workers 2"));
    CU_ASSERT(has_line("switchyard_maxconn 500"));
    CU_ASSERT(has_line("switchyard_current_connections 0"));
    CU_ASSERT(has_line("switchyard_connections_total 0"));
    CU_ASSERT(text_len > 0 && text[text_len - 1] == '\n');
}

static void
test_counters_and_classes(void)
{
    fresh();
    for (int i = 0; i < 3; i++)
        stats_accept(&listeners[0]);
    stats_end(&listeners[0], 0, 0, 100, 2000, "--");
    stats_kernel(&listeners[0], 1500, 60);         /* of those 2000 and 100, by the kernel */
    stats_end(&listeners[0], 0, 0, 10, 20, "--");
    stats_end(&listeners[0], 0, 1, 7, 0, "SC");     /* server refused */
    stats_end(&listeners[0], 0, 1, 5, 0, "cR");     /* client timeout */
    stats_end(&listeners[0], YT_NONE, YT_NONE, 3, 0, "PR");
    stats_end(&listeners[0], YT_NONE, YT_NONE, 3, 0, "RC");
    stats_server_down(1, 5000);                     /* down until 5 s, now is 1 s */
    stats_set_worker(1);                            /* the other worker's slice adds up */
    stats_accept(&listeners[0]);
    stats_end(&listeners[0], 0, 0, 1, 1, "--");
    render();
    CU_ASSERT(has_line("switchyard_connections_total 4"));
    CU_ASSERT(has_line("switchyard_listener_connections_total{listener=\"www\"} 4"));
    CU_ASSERT(has_line("switchyard_listener_bytes_in_total{listener=\"www\"} 129"));
    CU_ASSERT(has_line("switchyard_listener_bytes_out_total{listener=\"www\"} 2021"));
    CU_ASSERT(has_line("switchyard_listener_kernel_bytes_out_total{listener=\"www\"} 1500"));
    CU_ASSERT(has_line("switchyard_listener_kernel_bytes_in_total{listener=\"www\"} 60"));
    CU_ASSERT(has_line("switchyard_listener_errors_total{listener=\"www\",class=\"client\"} 1"));
    CU_ASSERT(has_line("switchyard_listener_errors_total{listener=\"www\",class=\"server\"} 1"));
    CU_ASSERT(has_line("switchyard_listener_errors_total{listener=\"www\",class=\"proxy\"} 1"));
    CU_ASSERT(has_line("switchyard_listener_errors_total{listener=\"www\",class=\"resource\"} 1"));
    CU_ASSERT(has_line("switchyard_pool_sessions_total{pool=\"one.test/http\"} 5"));
    CU_ASSERT(has_line("switchyard_pool_errors_total{pool=\"one.test/http\",class=\"server\"} 1"));
    CU_ASSERT(has_line("switchyard_server_sessions_total{pool=\"one.test/http\","
                       "server=\"[::1]:8001\"} 3"));
    CU_ASSERT(has_line("switchyard_server_sessions_total{pool=\"one.test/http\","
                       "server=\"[::1]:8002\"} 2"));
    CU_ASSERT(has_line("switchyard_server_errors_total{pool=\"one.test/http\","
                       "server=\"[::1]:8002\",class=\"client\"} 1"));
    CU_ASSERT(has_line("switchyard_server_up{pool=\"one.test/http\",server=\"[::1]:8001\"} 1"));
    CU_ASSERT(has_line("switchyard_server_up{pool=\"one.test/http\",server=\"[::1]:8002\"} 0"));
    CU_ASSERT(has_line("switchyard_server_marked_down_total{pool=\"one.test/http\","
                       "server=\"[::1]:8002\"} 1"));
    CU_ASSERT(has_line("switchyard_pool_up{pool=\"one.test/http\"} 1"));
    proc.now_ms = 6000;                             /* the mark has run out */
    render();
    proc.now_ms = 1000;
    CU_ASSERT(has_line("switchyard_server_up{pool=\"one.test/http\",server=\"[::1]:8002\"} 1"));
}

static void
test_label_values_are_escaped(void)
{
    fresh();
    render();
    /* backslash, double quote and line feed: \\, \" and \n */
    CU_ASSERT(has_line("switchyard_pool_up{pool=\"odd\\\"pool\\\\x\\ny\"} 1"));
    CU_ASSERT_PTR_NULL(strstr(text, "pool\\x\ny"));
}

static void
test_error_classes(void)
{
    CU_ASSERT_EQUAL(stats_err_class('C'), STATS_ERR_CLIENT);
    CU_ASSERT_EQUAL(stats_err_class('c'), STATS_ERR_CLIENT);
    CU_ASSERT_EQUAL(stats_err_class('S'), STATS_ERR_SERVER);
    CU_ASSERT_EQUAL(stats_err_class('s'), STATS_ERR_SERVER);
    CU_ASSERT_EQUAL(stats_err_class('P'), STATS_ERR_PROXY);
    CU_ASSERT_EQUAL(stats_err_class('K'), STATS_ERR_PROXY);
    CU_ASSERT_EQUAL(stats_err_class('R'), STATS_ERR_RESOURCE);
}

/* Every family: HELP, then TYPE, then all its samples, and its name nowhere else. */
static void
test_families_are_grouped(void)
{
    char family[128] = "";
    char seen[64][128];
    size_t nseen = 0;
    int families = 0;

    fresh();
    stats_end(&listeners[0], 0, 0, 1, 1, "--");
    render();
    for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
        char name[128];
        size_t n;

        nl = strchr(line, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
        if (strncmp(line, "# HELP ", 7) == 0) {
            n = strcspn(line + 7, " ");
            CU_ASSERT_FATAL(n < sizeof(family));
            memcpy(family, line + 7, n);
            family[n] = '\0';
            for (size_t i = 0; i < nseen; i++)
                CU_ASSERT_STRING_NOT_EQUAL(seen[i], family);
            CU_ASSERT_FATAL(nseen < 64);
            strcpy(seen[nseen++], family);
            families++;
            CU_ASSERT_EQUAL(strncmp(nl + 1, "# TYPE ", 7), 0);
            CU_ASSERT_EQUAL(strncmp(nl + 8, family, n), 0);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            const char *type = line + 7 + strlen(family) + 1;
            bool total = n_ends(family, "_total");

            CU_ASSERT(strncmp(type, "counter\n", 8) == 0 ? total
                                                          : strncmp(type, "gauge\n", 6) == 0 &&
                                                                !total);
            continue;
        }
        n = strcspn(line, "{ ");
        CU_ASSERT_FATAL(n < sizeof(name));
        memcpy(name, line, n);
        name[n] = '\0';
        CU_ASSERT_STRING_EQUAL(name, family);
    }
    CU_ASSERT(families >= 20);
}

/* Taken in chunks as small as a line allows, the text is the same as all at once. */
static void
test_chunks_give_the_same_text(void)
{
    static char chunked[1 << 16];
    struct metrics_cursor cur = { 0 };
    size_t n = 0, k;
    int calls = 0;

    fresh();
    stats_end(&listeners[0], 0, 0, 1, 1, "SD");
    render();
    while (!metrics_is_done(&cur)) {
        CU_ASSERT_FATAL(n + METRICS_LINE_MAX <= sizeof(chunked));
        k = metrics_render(&table, &proc, &cur, chunked + n, METRICS_LINE_MAX);
        CU_ASSERT_FATAL(k > 0 || metrics_is_done(&cur));
        n += k;
        calls++;
    }
    CU_ASSERT(calls > 1);
    CU_ASSERT_EQUAL(n, text_len);
    CU_ASSERT(memcmp(chunked, text, n) == 0);
    CU_ASSERT_EQUAL(metrics_render(&table, &proc, &cur, chunked, sizeof(chunked)), 0);
}

/* Past the cap, only pools and servers with traffic or marked down are listed. */
static void
test_big_tables_list_what_carried_traffic(void)
{
    fresh();
    proc.list_all_max = 0;
    stats_end(&listeners[0], 0, 0, 1, 1, "--");
    render();
    proc.list_all_max = METRICS_LIST_ALL_MAX;
    CU_ASSERT(has_line("switchyard_server_sessions_total{pool=\"one.test/http\","
                       "server=\"[::1]:8001\"} 1"));
    CU_ASSERT_PTR_NULL(strstr(text, "[::1]:8002"));
    CU_ASSERT_PTR_NULL(strstr(text, "odd"));
    CU_ASSERT(has_line("# TYPE switchyard_server_up gauge"));
    CU_ASSERT(has_line("switchyard_listener_connections_total{listener=\"www\"} 0"));
}

/* Shared memory this process has resident, in KiB (RssShmem), or -1. */
static long
shmem_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "RssShmem: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

/* A scrape of a table with 200,000 pools and servers, one of which carried traffic, makes
 * resident the pages that were written and few more: not the 48 MB of counters. */
static void
test_untouched_counters_stay_unmapped(void)
{
    enum { N = 200000 };
    struct yt_pool *bp = calloc(N, sizeof(*bp));
    struct yt_server *bs = calloc(N, sizeof(*bs));
    struct yt_table big = table;
    static const char want[] = "switchyard_pool_sessions_total{pool=\"one.test/http\"} 1\n";
    long before, after;
    char *all;
    size_t len;

    CU_ASSERT_FATAL(bp != NULL && bs != NULL);
    for (uint32_t i = 0; i < N; i++) {
        bp[i] = (struct yt_pool){ .name = { 3, 13 }, .first = i, .count = 1 };
        bs[i] = (struct yt_server){ .name = { 16, 10 }, .weight = 1 };
    }
    big.pools = bp;
    big.pool_count = N;
    big.servers = bs;
    big.server_count = N;
    stats_fini();
    CU_ASSERT_EQUAL_FATAL(stats_init(&big, 2), 0);
    stats_set_worker(1);
    stats_end(&listeners[0], N / 2, N / 2, 10, 20, "--");
    before = shmem_kib();
    proc.list_all_max = 0;
    all = metrics_render_all(&big, &proc, &len);
    proc.list_all_max = METRICS_LIST_ALL_MAX;
    after = shmem_kib();
    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    CU_ASSERT(before >= 0 && after - before < 1024);
    CU_ASSERT_PTR_NOT_NULL(memmem(all, len, want, strlen(want)));
    free(all);
    free(bp);
    free(bs);
    fresh();
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "process facts", test_process_facts },
        { "counters add the workers up, errors by class", test_counters_and_classes },
        { "label values are escaped", test_label_values_are_escaped },
        { "termination codes to error classes", test_error_classes },
        { "families are grouped, counters end in _total", test_families_are_grouped },
        { "chunks give the same text", test_chunks_give_the_same_text },
        { "big tables list what carried traffic", test_big_tables_list_what_carried_traffic },
        { "untouched counters stay unmapped", test_untouched_counters_stay_unmapped },
    };
    int rc = UNIT_RUN("metrics", tests);

    free(text);
    stats_fini();
    return rc;
}
