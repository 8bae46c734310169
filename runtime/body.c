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
