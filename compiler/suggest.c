#include "suggest.h"

#include <string.h>
#include <strings.h>

#define SUGGEST_MAX 64

unsigned
suggest_distance(const char *a, size_t alen, const char *b, size_t blen, unsigned cap)
{
    unsigned rows[3][SUGGEST_MAX + 1];
    unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];

    if (alen > SUGGEST_MAX || blen > SUGGEST_MAX)
        return cap + 1;
    if ((alen > blen ? alen - blen : blen - alen) > cap)
        return cap + 1;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= alen; i++) {
        unsigned best = cur[0] = (unsigned)i;

        for (size_t j = 1; j <= blen; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned v = prev[j - 1] + cost;

            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (best > cap)
            return cap + 1;
        unsigned *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen] > cap ? cap + 1 : prev[blen];
}

const char *
suggest(const char *word, size_t len, const char *const *cands, size_t count)
{
    const char *best = NULL;
    unsigned best_d = 3;

    for (size_t i = 0; i < count; i++) {
        size_t clen = strlen(cands[i]);
        unsigned cap = clen <= 4 ? 1 : 2;
        unsigned d;

        if (clen == len && memcmp(cands[i], word, len) == 0)
            continue;
        if (clen == len && strncasecmp(cands[i], word, len) == 0)
            return cands[i];                /* only the case differs: nothing is closer */
        d = suggest_distance(word, len, cands[i], clen, cap);
        if (d <= cap && d < best_d) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}
