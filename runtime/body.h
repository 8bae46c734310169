/* Message bodies as they pass through the proxy: one framer for requests and responses.
 * It tells where a body ends in the bytes that come after its head (RFC 9112 §6.3):
 * Content-Length, chunked (hh_chunked_scan()), or until the sender closes. Pure: no I/O,
 * no allocation; the bytes are borrowed for each call. */
#ifndef RUNTIME_BODY_H
#define RUNTIME_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httphead.h"

enum body_phase {
    BODY_HEAD = 0,                  /* its message's head has not been framed yet */
    BODY_LENGTH,                    /* Content-Length: `left` bytes to go */
    BODY_CHUNKED,                   /* chunked: the scanner decides */
    BODY_CLOSE,                     /* until the sender closes */
    BODY_DONE                       /* no body, or all of it has passed */
};

struct body {
    enum body_phase phase;
    uint64_t left;                  /* BODY_LENGTH */
    struct hh_chunked ch;           /* BODY_CHUNKED */
};

/* The head of the message was framed: its body is `kind` (HH_BODY_TUNNEL runs until close
 * too), of length bytes for HH_BODY_LENGTH. */
void body_start(struct body *b, enum hh_body kind, uint64_t length);

/* Frames p[0 .. len), the next bytes after what was framed: *used of them belong to the
 * body. HH_OK: the body ended (phase BODY_DONE) within them; what follows is the next
 * message. HH_NEED_MORE: all of them belong to it and it goes on (BODY_CLOSE: until the
 * sender closes). HH_ERR_*: a chunked body is invalid at p[*used]. A body already done
 * takes nothing (HH_OK). Inline, as the rest: it runs on every read of a body. */
static inline enum hh_result
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

/* n bytes of a Content-Length body passed without being framed (spliced): at most
 * body_want(b) of them. */
static inline void
body_took(struct body *b, uint64_t n)
{
    if (b->phase == BODY_LENGTH && (b->left -= n) == 0)
        b->phase = BODY_DONE;
}

/* How many bytes at most may pass unframed now: what is left of a Content-Length body,
 * SIZE_MAX for a body running until close, 0 otherwise. */
static inline size_t
body_want(const struct body *b)
{
    if (b->phase == BODY_LENGTH)
        return b->left < SIZE_MAX ? (size_t)b->left : SIZE_MAX;
    return b->phase == BODY_CLOSE ? SIZE_MAX : 0;
}

static inline bool
body_is_done(const struct body *b)
{
    return b->phase == BODY_DONE;
}

#endif
