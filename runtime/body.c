#include "body.h"

void
body_start(struct body *b, enum hh_body kind, uint64_t length)
{
    b->left = 0;
    switch (kind) {
    case HH_BODY_LENGTH:
        b->phase = length > 0 ? BODY_LENGTH : BODY_DONE;
        b->left = length;
        break;
    case HH_BODY_CHUNKED:
        b->phase = BODY_CHUNKED;
        hh_chunked_init(&b->ch);
        break;
    case HH_BODY_CLOSE:
    case HH_BODY_TUNNEL:
        b->phase = BODY_CLOSE;
        break;
    case HH_BODY_NONE:
    default:
        b->phase = BODY_DONE;
        break;
    }
}

enum hh_result
body_frame(struct body *b, const uint8_t *p, size_t len, size_t *used)
{
    enum hh_result r;

    switch (b->phase) {
    case BODY_LENGTH:
        *used = len < b->left ? len : (size_t)b->left;
        b->left -= *used;
        if (b->left > 0)
            return HH_NEED_MORE;
        b->phase = BODY_DONE;
        return HH_OK;
    case BODY_CHUNKED:
        r = hh_chunked_scan(&b->ch, p, len, used);
        if (r == HH_OK)
            b->phase = BODY_DONE;
        return r;
    case BODY_CLOSE:
        *used = len;
        return HH_NEED_MORE;
    case BODY_HEAD:
    case BODY_DONE:
    default:
        *used = 0;
        return HH_OK;
    }
}

void
body_took(struct body *b, uint64_t n)
{
    if (b->phase == BODY_LENGTH && (b->left -= n) == 0)
        b->phase = BODY_DONE;
}

size_t
body_want(const struct body *b)
{
    if (b->phase == BODY_LENGTH)
        return b->left < SIZE_MAX ? (size_t)b->left : SIZE_MAX;
    return b->phase == BODY_CLOSE ? SIZE_MAX : 0;
}
