/* Chunked bodies (RFC 9112 §7.1), the part of httphead.h that walks a body rather than a
 * head: hh_chunked_*(). Pure, as httphead.c. */
#include "httphead.h"

#include <string.h>

#include "httpchar.h"

void
hh_chunked_init(struct hh_chunked *s)
{
    memset(s, 0, sizeof(*s));
    s->state = HH_CHUNKED_SIZE;
    s->error = HH_OK;
}

bool
hh_chunked_is_done(const struct hh_chunked *s)
{
    return s->state == HH_CHUNKED_DONE;
}

/* qdtext of RFC 9110 §5.6.4. */
static bool
is_qdtext(uint8_t c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b)
           || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/* One byte of a chunk line after the chunk-size (RFC 9112 §7.1.1):
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), strictly: whitespace is
 * allowed only where BWS is, so none before the CRLF. Returns the next state, or
 * HH_CHUNKED_FAILED with *err set. */
static enum hh_chunked_state
chunk_ext_byte(enum hh_chunked_state st, uint8_t c, enum hh_result *err)
{
    if (c == '\n') {
        *err = HH_ERR_BARE_LF;
        return HH_CHUNKED_FAILED;
    }
    switch (st) {
    case HH_CHUNKED_SIZE_MORE:
    case HH_CHUNKED_EXT_NAME:
    case HH_CHUNKED_EXT_TOKEN:
    case HH_CHUNKED_EXT_AFTER:
        if (c == '\r')
            return HH_CHUNKED_SIZE_LF;
        if (c == ';')
            return HH_CHUNKED_EXT_NAME0;
        if (is_ws(c))
            return st == HH_CHUNKED_EXT_NAME ? HH_CHUNKED_EXT_EQ : HH_CHUNKED_EXT_SEMI;
        if (st == HH_CHUNKED_EXT_NAME && c == '=')
            return HH_CHUNKED_EXT_VAL0;
        if ((st == HH_CHUNKED_EXT_NAME || st == HH_CHUNKED_EXT_TOKEN) && is_tchar(c))
            return st;
        break;
    case HH_CHUNKED_EXT_SEMI:
    case HH_CHUNKED_EXT_EQ:
        if (is_ws(c))
            return st;
        if (c == ';')
            return HH_CHUNKED_EXT_NAME0;
        if (st == HH_CHUNKED_EXT_EQ && c == '=')
            return HH_CHUNKED_EXT_VAL0;
        break;
    case HH_CHUNKED_EXT_NAME0:
        if (is_ws(c))
            return st;
        if (is_tchar(c))
            return HH_CHUNKED_EXT_NAME;
        break;
    case HH_CHUNKED_EXT_VAL0:
        if (is_ws(c))
            return st;
        if (c == '"')
            return HH_CHUNKED_EXT_QUOTED;
        if (is_tchar(c))
            return HH_CHUNKED_EXT_TOKEN;
        break;
    case HH_CHUNKED_EXT_QUOTED:
        if (c == '"')
            return HH_CHUNKED_EXT_AFTER;
        if (c == '\\')
            return HH_CHUNKED_EXT_QPAIR;
        if (is_qdtext(c))
            return st;
        break;
    case HH_CHUNKED_EXT_QPAIR:
        if (c == '\t' || (c >= 0x20 && c != 0x7f))
            return HH_CHUNKED_EXT_QUOTED;
        break;
    default:
        break;
    }
    *err = st == HH_CHUNKED_SIZE_MORE ? HH_ERR_CHUNK_SIZE : HH_ERR_CHUNK_EXT;
    return HH_CHUNKED_FAILED;
}

/* One byte of the trailer section (RFC 9112 §7.1.2): field lines checked as in the head. */
static enum hh_chunked_state
trailer_byte(enum hh_chunked_state st, uint8_t c, enum hh_result *err)
{
    switch (st) {
    case HH_CHUNKED_TRAILER:
        if (c == '\r')
            return HH_CHUNKED_END_LF;
        if (c == '\n')
            *err = HH_ERR_BARE_LF;
        else if (is_ws(c))
            *err = HH_ERR_OBS_FOLD;
        else if (c == ':')
            *err = HH_ERR_FIELD_NAME_EMPTY;
        else if (is_tchar(c))
            return HH_CHUNKED_TRAILER_NAME;
        else
            *err = HH_ERR_FIELD_NAME;
        break;
    case HH_CHUNKED_TRAILER_NAME:
        if (c == ':')
            return HH_CHUNKED_TRAILER_VALUE;
        if (c == '\r')
            return HH_CHUNKED_TRAILER_NAME_LF;
        if (is_tchar(c))
            return st;
        if (c == '\n')
            *err = HH_ERR_BARE_LF;
        else if (is_ws(c))
            *err = HH_ERR_FIELD_NAME_SPACE;
        else
            *err = HH_ERR_FIELD_NAME;
        break;
    case HH_CHUNKED_TRAILER_NAME_LF:
        *err = c == '\n' ? HH_ERR_FIELD_NO_COLON : HH_ERR_BARE_CR;
        break;
    case HH_CHUNKED_TRAILER_VALUE:
        if (c == '\r')
            return HH_CHUNKED_TRAILER_LF;
        if (is_value_char(c))
            return st;
        *err = c == '\n' ? HH_ERR_BARE_LF : HH_ERR_FIELD_VALUE;
        break;
    case HH_CHUNKED_TRAILER_LF:
        if (c == '\n')
            return HH_CHUNKED_TRAILER;
        *err = HH_ERR_BARE_CR;
        break;
    case HH_CHUNKED_END_LF:
        if (c == '\n')
            return HH_CHUNKED_DONE;
        *err = HH_ERR_BARE_CR;
        break;
    default:
        break;
    }
    return HH_CHUNKED_FAILED;
}

enum hh_result
hh_chunked_scan(struct hh_chunked *s, const uint8_t *data, size_t len, size_t *used)
{
    size_t pos = 0;
    enum hh_result err = HH_OK;

    *used = 0;
    if (s->state == HH_CHUNKED_FAILED)
        return s->error;
    if (s->state == HH_CHUNKED_DONE)
        return HH_OK;
    while (pos < len) {
        uint8_t c = data[pos];
        enum hh_chunked_state next = HH_CHUNKED_FAILED;
        int h;

        switch (s->state) {
        case HH_CHUNKED_DATA: {
            size_t n = len - pos;

            /* The only state that is not byte by byte: skip the data in one step. */
            if (n > s->remaining)
                n = (size_t)s->remaining;
            s->remaining -= n;
            pos += n;
            if (s->remaining == 0)
                s->state = HH_CHUNKED_DATA_CR;
            continue;
        }
        case HH_CHUNKED_SIZE:
            h = hex_value(c);
            if (h >= 0) {
                s->remaining = (uint64_t)h;
                s->digits = 1;
                s->line_len = 0;
                next = HH_CHUNKED_SIZE_MORE;
            } else {
                err = c == '\n' ? HH_ERR_BARE_LF : HH_ERR_CHUNK_SIZE;
            }
            break;
        case HH_CHUNKED_SIZE_MORE:
            h = hex_value(c);
            if (h >= 0) {
                /* Leading zeros count: a recipient reading a fixed number of digits must
                 * see the same size (see HH_CHUNK_DIGITS_MAX). */
                s->remaining = s->remaining << 4 | (uint64_t)h;
                if (++s->digits > HH_CHUNK_DIGITS_MAX || s->remaining > HH_CHUNK_SIZE_MAX) {
                    err = HH_ERR_CHUNK_SIZE_OVERFLOW;
                    break;
                }
                next = HH_CHUNKED_SIZE_MORE;
                break;
            }
            /* fall through */
        case HH_CHUNKED_EXT_SEMI:
        case HH_CHUNKED_EXT_NAME0:
        case HH_CHUNKED_EXT_NAME:
        case HH_CHUNKED_EXT_EQ:
        case HH_CHUNKED_EXT_VAL0:
        case HH_CHUNKED_EXT_TOKEN:
        case HH_CHUNKED_EXT_QUOTED:
        case HH_CHUNKED_EXT_QPAIR:
        case HH_CHUNKED_EXT_AFTER:
            if (c != '\r' && ++s->line_len > HH_CHUNK_EXT_MAX) {
                err = HH_ERR_CHUNK_EXT_TOO_LONG;
                break;
            }
            next = chunk_ext_byte(s->state, c, &err);
            break;
        case HH_CHUNKED_SIZE_LF:
            if (c != '\n') {
                err = HH_ERR_BARE_CR;
            } else if (s->remaining == 0) {
                s->line_len = 0;
                next = HH_CHUNKED_TRAILER;
            } else {
                next = HH_CHUNKED_DATA;
            }
            break;
        case HH_CHUNKED_DATA_CR:
            if (c == '\r')
                next = HH_CHUNKED_DATA_LF;
            else
                err = HH_ERR_CHUNK_CRLF;
            break;
        case HH_CHUNKED_DATA_LF:
            if (c == '\n')
                next = HH_CHUNKED_SIZE;
            else
                err = HH_ERR_CHUNK_CRLF;
            break;
        case HH_CHUNKED_TRAILER:
        case HH_CHUNKED_TRAILER_NAME:
        case HH_CHUNKED_TRAILER_NAME_LF:
        case HH_CHUNKED_TRAILER_VALUE:
        case HH_CHUNKED_TRAILER_LF:
        case HH_CHUNKED_END_LF:
            if (++s->line_len > HH_TRAILER_MAX) {
                err = HH_ERR_TRAILER_TOO_LARGE;
                break;
            }
            next = trailer_byte(s->state, c, &err);
            break;
        case HH_CHUNKED_DONE:
        case HH_CHUNKED_FAILED:
            break;
        }
        if (next == HH_CHUNKED_FAILED) {
            s->state = HH_CHUNKED_FAILED;
            s->error = err;
            *used = pos;
            return err;
        }
        s->state = next;
        pos++;
        if (next == HH_CHUNKED_DONE) {
            *used = pos;
            return HH_OK;
        }
    }
    *used = len;
    return HH_NEED_MORE;
}
