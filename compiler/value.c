#include "value.h"

#include <string.h>

#define MAX_DURATION_MS (24u * 3600u * 1000u)

bool
value_u32(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

const char *
value_duration(const char *s, size_t len, uint32_t *ms)
{
    size_t digits = 0;
    uint64_t v = 0, mult;

    while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
        v = v * 10 + (uint64_t)(s[digits] - '0');
        if (v > UINT32_MAX)
            return "duration out of range (1ms to 24h)";
        digits++;
    }
    if (digits == 0)
        return "expected a duration such as 5s";
    if (digits == len)
        return "a duration needs a unit: ms, s, m or h";
    if (len - digits == 2 && memcmp(s + digits, "ms", 2) == 0)
        mult = 1;
    else if (len - digits == 1 && s[digits] == 's')
        mult = 1000;
    else if (len - digits == 1 && s[digits] == 'm')
        mult = 60000;
    else if (len - digits == 1 && s[digits] == 'h')
        mult = 3600000;
    else
        return "unknown time unit (use ms, s, m or h)";
    v *= mult;
    if (v < 1 || v > MAX_DURATION_MS)
        return "duration out of range (1ms to 24h)";
    *ms = (uint32_t)v;
    return NULL;
}
