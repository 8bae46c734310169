#include "sni.h"

#include <stdbool.h>
#include <string.h>

/*
 * The ClientHello is read as one handshake message through a cursor that walks the record
 * fragments in place, so a hello split over many records needs no reassembly buffer.
 *
 * Every check is made as soon as the bytes it depends on are in, on partial fields too: a
 * length field whose first byte is known is already bounded, and if no completion of it
 * can be valid the verdict is an error now rather than SNI_NEED_MORE. So SNI_NEED_MORE
 * means exactly "some continuation of these bytes is a valid ClientHello".
 *
 * sni_scan() moves the same cursor over the record headers only, judging them with the
 * same code, to tell a reader when the message is whole and worth parsing.
 */

/* Helpers return STEP_OK to mean "no verdict yet, carry on". */
#define STEP_OK SNI_FOUND

#define TLS_CONTENT_HANDSHAKE 22
#define TLS_HANDSHAKE_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_NAME_TYPE_HOST_NAME 0
#define TLS_RECORD_HEADER_LEN 5
#define TLS_RECORD_MAX 16384            /* RFC 8446 §5.1: fragment length <= 2^14 */
#define HANDSHAKE_HEADER_LEN 4          /* msg_type (1), length (3) */
#define SESSION_ID_MAX 32

/* version (2), random (32), session id length (1), cipher suites length (2) and one suite
 * (2), compression methods length (1) and one method (1). */
#define HELLO_MIN 41
/* type (2) and length (2): anything shorter left in the extensions block is trailing. */
#define EXT_HEADER_LEN 4
/* list length (2), then one entry: name_type (1), name length (2), one byte of name. */
#define SNI_EXT_MIN 6
#define SNI_ENTRY_HEADER_LEN 3
/* A name may carry one trailing dot beyond SNI_NAME_MAX. */
#define WIRE_NAME_MAX (SNI_NAME_MAX + 1)
#define LABEL_MAX 63

struct cursor {
    const uint8_t *data;
    size_t len;
    size_t pos;                 /* next byte of data to look at */
    size_t frag_left;           /* unread fragment bytes of the current record */
    size_t msg_pos;             /* handshake message bytes read so far */
    size_t msg_max;             /* no valid message is longer than this */
    bool seen_record;           /* a record header has been read whole */
};

/* A length field of which only some bytes are in: all completions lie in [lo, hi]. */
struct bound {
    uint32_t lo, hi;
};

/* Name validation state for the first host_name, fed one byte at a time. */
struct name_check {
    char buf[WIRE_NAME_MAX + 1];
    size_t len;
    size_t label_len;
};

static bool
is_ldh(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
        || b == '-';
}

/* Whether a field in [b.lo, b.hi] can take a value v in [min, max] that fills room exactly
 * or leaves at least `gap` bytes, enough for a following element of that minimum size. */
static bool
fits(struct bound b, size_t min, size_t max, size_t room, size_t gap)
{
    size_t lo = b.lo > min ? b.lo : min;
    size_t hi = b.hi < max ? b.hi : max;

    if (lo > hi)
        return false;
    if (lo <= room && room <= hi)
        return true;
    return room >= gap && lo <= room - gap;
}

/* Reads the next record header at c->pos; called when the current fragment is used up and
 * the message needs more bytes. Bytes of a header are judged as they arrive. */
static enum sni_result
next_record(struct cursor *c)
{
    const uint8_t *h = c->data + c->pos;
    size_t avail = c->len - c->pos;
    size_t room = c->msg_max - c->msg_pos;
    struct bound rec_len;

    if (avail >= 1 && h[0] != TLS_CONTENT_HANDSHAKE)
        return c->seen_record ? SNI_ERR_RECORD_TYPE : SNI_NOT_TLS;
    /* legacy_record_version: 0x0301 in a first ClientHello, 0x0303 later (RFC 8446 §5.1);
     * SSL 3.0 and a future 0x0304 do no harm to a reader of the name. */
    if (avail >= 2 && h[1] != 3)
        return SNI_ERR_RECORD_VERSION;
    if (avail >= 3 && h[2] > 4)
        return SNI_ERR_RECORD_VERSION;
    if (avail >= 5) {
        rec_len.lo = rec_len.hi = (uint32_t)h[3] << 8 | h[4];
    } else if (avail == 4) {
        rec_len.lo = (uint32_t)h[3] << 8;
        rec_len.hi = rec_len.lo | 0xff;
    } else {
        rec_len.lo = 0;
        rec_len.hi = 0xffff;
    }
    /* Zero-length handshake fragments are forbidden (RFC 8446 §5.1). */
    if (rec_len.lo > TLS_RECORD_MAX || rec_len.hi == 0)
        return SNI_ERR_RECORD_LENGTH;
    /* The ClientHello must end on a record boundary (RFC 8446 §5.1: it may precede a key
     * change), so no record may reach past it. */
    if (rec_len.lo > room)
        return SNI_ERR_RECORD_TRAILING;
    if (avail < TLS_RECORD_HEADER_LEN)
        return SNI_NEED_MORE;
    c->pos += TLS_RECORD_HEADER_LEN;
    c->frag_left = rec_len.lo;
    c->seen_record = true;
    return STEP_OK;
}

static enum sni_result
get_byte(struct cursor *c, uint8_t *b)
{
    if (c->frag_left == 0) {
        enum sni_result r = next_record(c);

        if (r != STEP_OK)
            return r;
    }
    if (c->pos == c->len)
        return SNI_NEED_MORE;
    *b = c->data[c->pos++];
    c->frag_left--;
    c->msg_pos++;
    return STEP_OK;
}

/* Reads an n-byte big-endian field (n <= 3). Whatever the result, *b bounds the field by
 * the bytes that were in, so the caller can judge a partial field before giving up. */
static enum sni_result
get_uint(struct cursor *c, unsigned n, struct bound *b)
{
    enum sni_result r = STEP_OK;
    uint32_t v = 0;
    unsigned k;
    uint8_t byte;

    for (k = 0; k < n; k++) {
        r = get_byte(c, &byte);
        if (r != STEP_OK)
            break;
        v = v << 8 | byte;
    }
    b->lo = v << (8 * (n - k));
    b->hi = b->lo | (uint32_t)((1ul << (8 * (n - k))) - 1);
    return r;
}

static enum sni_result
skip(struct cursor *c, size_t n)
{
    while (n > 0) {
        size_t step;

        if (c->frag_left == 0) {
            enum sni_result r = next_record(c);

            if (r != STEP_OK)
                return r;
        }
        step = c->len - c->pos;
        if (step == 0)
            return SNI_NEED_MORE;
        if (step > c->frag_left)
            step = c->frag_left;
        if (step > n)
            step = n;
        c->pos += step;
        c->frag_left -= step;
        c->msg_pos += step;
        n -= step;
    }
    return STEP_OK;
}

/* Narrows msg_max once the message length is (partly) known, and holds the current record
 * to it. */
static enum sni_result
limit_message(struct cursor *c, size_t msg_max)
{
    if (msg_max < c->msg_max)
        c->msg_max = msg_max;
    if (c->frag_left > c->msg_max - c->msg_pos)
        return SNI_ERR_RECORD_TRAILING;
    return STEP_OK;
}

/* Handshake header: msg_type and a 24-bit length, judged byte by byte so that a record
 * header arriving in between is held to what is known of the length already. */
static enum sni_result
read_handshake_header(struct cursor *c, size_t *hello_len)
{
    enum sni_result r;
    uint32_t v = 0, lo, hi;
    uint8_t b;

    r = get_byte(c, &b);
    if (r != STEP_OK)
        return r;
    if (b != TLS_HANDSHAKE_CLIENT_HELLO)
        return SNI_ERR_HANDSHAKE_TYPE;
    for (unsigned k = 0; k < 3; k++) {
        r = get_byte(c, &b);
        if (r != STEP_OK)
            return r;
        v = v << 8 | b;
        lo = v << (8 * (2 - k));
        hi = lo | ((1u << (8 * (2 - k))) - 1);
        /* Refused as soon as the length is seen to be too large, before the body comes. */
        if (lo > SNI_HELLO_MAX)
            return SNI_ERR_TOO_LARGE;
        if (hi < HELLO_MIN)
            return SNI_ERR_HELLO_LENGTH;
        r = limit_message(c, HANDSHAKE_HEADER_LEN + (hi < SNI_HELLO_MAX ? hi : SNI_HELLO_MAX));
        if (r != STEP_OK)
            return r;
    }
    *hello_len = v;
    return STEP_OK;
}

/* One byte of the first host name: letters, digits, hyphens, dots between labels of
 * 1..63 bytes; uppercase is folded (DNS names are case-insensitive, RFC 4343). */
static enum sni_result
name_feed(struct name_check *nc, uint8_t b)
{
    if (b == '.') {
        if (nc->label_len == 0)
            return SNI_ERR_NAME;
        nc->label_len = 0;
    } else if (is_ldh(b)) {
        if (++nc->label_len > LABEL_MAX)
            return SNI_ERR_NAME;
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b - 'A' + 'a');
    } else {
        /* Underscores, spaces, NUL, UTF-8 (IDNs travel as A-labels, RFC 6066 §3). */
        return SNI_ERR_NAME;
    }
    nc->buf[nc->len++] = (char)b;
    return STEP_OK;
}

/* The server_name extension body, ext_len bytes (RFC 6066 §3). Every entry must be a
 * host_name, since other name types have no length that could be skipped; the first one
 * is the name. Sets *found when that name is complete and valid. */
static enum sni_result
read_server_name(struct cursor *c, size_t ext_len, struct name_check *nc, bool *found)
{
    size_t end = c->msg_pos + ext_len;
    struct bound b;
    enum sni_result r;

    r = get_uint(c, 2, &b);
    if (b.lo > ext_len - 2 || b.hi < ext_len - 2)
        return SNI_ERR_SNI_LENGTH;
    if (r != STEP_OK)
        return r;
    while (c->msg_pos < end) {
        size_t room = end - c->msg_pos - SNI_ENTRY_HEADER_LEN;
        bool first = nc->len == 0 && !*found;
        size_t name_len;
        uint8_t type;

        r = get_byte(c, &type);
        if (r != STEP_OK)
            return r;
        if (type != TLS_NAME_TYPE_HOST_NAME)
            return SNI_ERR_NAME_TYPE;
        r = get_uint(c, 2, &b);
        /* The entry must fill the list or leave room for another whole entry. */
        if (!fits(b, 0, UINT32_MAX, room, SNI_ENTRY_HEADER_LEN + 1))
            return SNI_ERR_SNI_LENGTH;
        if (!fits(b, 1, first ? WIRE_NAME_MAX : UINT32_MAX, room, SNI_ENTRY_HEADER_LEN + 1))
            return SNI_ERR_NAME;
        if (r != STEP_OK)
            return r;
        name_len = b.lo;
        if (!first) {
            r = skip(c, name_len);
            if (r != STEP_OK)
                return r;
            continue;
        }
        for (size_t i = 0; i < name_len; i++) {
            uint8_t ch;

            r = get_byte(c, &ch);
            if (r != STEP_OK)
                return r;
            r = name_feed(nc, ch);
            if (r != STEP_OK)
                return r;
        }
        /* One trailing dot marks the name absolute; the name is the same without it. */
        if (nc->buf[nc->len - 1] == '.')
            nc->len--;
        if (nc->len > SNI_NAME_MAX)
            return SNI_ERR_NAME;
        nc->buf[nc->len] = '\0';
        *found = true;
    }
    return STEP_OK;
}

/* Whether rem bytes after compression_methods can be the extensions: none at all (TLS 1.2
 * allows it), or a length and zero or more whole extensions. */
static bool
is_extensions_room(size_t rem)
{
    return rem == 0 || rem == 2 || rem >= 2 + EXT_HEADER_LEN;
}

/* The extensions block, from its length field to the end of the hello at msg_end. */
static enum sni_result
read_extensions(struct cursor *c, size_t msg_end, struct name_check *nc, bool *found)
{
    /* One bit per extension type: duplicates are refused (RFC 8446 §4.2). */
    uint64_t seen[65536 / 64];
    size_t rem = msg_end - c->msg_pos;
    struct bound b;
    enum sni_result r;

    if (rem == 0)
        return STEP_OK;
    r = get_uint(c, 2, &b);
    if (b.lo > rem - 2)
        return SNI_ERR_EXTENSIONS_LENGTH;
    if (b.hi < rem - 2)
        return SNI_ERR_TRAILING;
    if (r != STEP_OK)
        return r;

    memset(seen, 0, sizeof(seen));
    while (c->msg_pos < msg_end) {
        size_t room = msg_end - c->msg_pos - EXT_HEADER_LEN;
        uint32_t type;

        r = get_uint(c, 2, &b);
        if (r != STEP_OK) {
            /* Only the high byte is in: every type it allows may be taken already (or
             * be server_name with no room for one). */
            if (b.hi - b.lo == 0xff) {
                const uint64_t *w = &seen[b.lo / 64];
                uint64_t w0 = w[0];

                if (b.lo == TLS_EXT_SERVER_NAME && room < SNI_EXT_MIN)
                    w0 |= 1;
                if ((w0 & w[1] & w[2] & w[3]) == UINT64_MAX)
                    return SNI_ERR_DUPLICATE_EXTENSION;
            }
            return r;
        }
        type = b.lo;
        if (seen[type / 64] & (UINT64_C(1) << (type % 64)))
            return SNI_ERR_DUPLICATE_EXTENSION;
        seen[type / 64] |= UINT64_C(1) << (type % 64);

        r = get_uint(c, 2, &b);
        if (b.lo > room)
            return SNI_ERR_EXTENSION_LENGTH;
        /* The extension must fill the block or leave room for another header. */
        if (!fits(b, 0, UINT32_MAX, room, EXT_HEADER_LEN))
            return SNI_ERR_TRAILING;
        if (type == TLS_EXT_SERVER_NAME &&
            !fits(b, SNI_EXT_MIN, UINT32_MAX, room, EXT_HEADER_LEN))
            return SNI_ERR_SNI_LENGTH;
        if (r != STEP_OK)
            return r;
        if (type == TLS_EXT_SERVER_NAME)
            r = read_server_name(c, b.lo, nc, found);
        else
            r = skip(c, b.lo);
        if (r != STEP_OK)
            return r;
    }
    return STEP_OK;
}

/* The ClientHello body (RFC 8446 §4.1.2), hello_len bytes, ending at message byte msg_end.
 * Each length leaves room for the smallest valid rest of the hello. */
static enum sni_result
read_hello(struct cursor *c, size_t msg_end, struct name_check *nc, bool *found)
{
    struct bound b;
    enum sni_result r;
    bool has_null = false;
    size_t rem;
    uint8_t v;

    r = get_byte(c, &v);
    if (r != STEP_OK)
        return r;
    if (v != 3)
        return SNI_ERR_HELLO_VERSION;
    r = get_byte(c, &v);
    if (r != STEP_OK)
        return r;
    if (v > 4)
        return SNI_ERR_HELLO_VERSION;
    r = skip(c, 32);                    /* random */
    if (r != STEP_OK)
        return r;

    /* legacy_session_id, leaving room for cipher suites and compression methods. */
    r = get_uint(c, 1, &b);
    if (r != STEP_OK)
        return r;
    rem = msg_end - c->msg_pos;
    if (b.lo > SESSION_ID_MAX || b.lo > rem - (2 + 2) - (1 + 1))
        return SNI_ERR_SESSION_ID;
    r = skip(c, b.lo);
    if (r != STEP_OK)
        return r;

    /* cipher_suites: whole suites, at least one, leaving room for compression methods. */
    rem = msg_end - c->msg_pos - 2;
    r = get_uint(c, 2, &b);
    if (b.lo > rem - (1 + 1) || b.hi < 2)
        return SNI_ERR_CIPHER_SUITES;
    if (r != STEP_OK)
        return r;
    if (b.lo % 2 != 0)
        return SNI_ERR_CIPHER_SUITES;
    r = skip(c, b.lo);
    if (r != STEP_OK)
        return r;

    /* compression_methods, leaving room for nothing or a whole extensions block. */
    r = get_uint(c, 1, &b);
    if (r != STEP_OK)
        return r;
    rem = msg_end - c->msg_pos;
    if (b.lo == 0 || b.lo > rem)
        return SNI_ERR_COMPRESSION;
    if (!is_extensions_room(rem - b.lo))
        return SNI_ERR_EXTENSIONS_LENGTH;
    /* The null method must be offered (RFC 5246 §7.4.1.2; RFC 8446 wants only it). */
    for (size_t i = b.lo; i > 0; i--) {
        r = get_byte(c, &v);
        if (r != STEP_OK)
            return r;
        has_null |= v == 0;
    }
    if (!has_null)
        return SNI_ERR_COMPRESSION;

    return read_extensions(c, msg_end, nc, found);
}

/* The handshake message from the cursor's start, for both entry points. */
static enum sni_result
read_message(struct cursor *c, char out[SNI_NAME_MAX + 1], size_t *out_len)
{
    struct name_check nc = { .len = 0 };
    bool found = false;
    size_t hello_len;
    enum sni_result r;

    r = read_handshake_header(c, &hello_len);
    if (r != STEP_OK)
        return r;
    r = read_hello(c, HANDSHAKE_HEADER_LEN + hello_len, &nc, &found);
    if (r != STEP_OK)
        return r;
    if (!found)
        return SNI_NO_SNI;
    memcpy(out, nc.buf, nc.len + 1);
    if (out_len != NULL)
        *out_len = nc.len;
    return SNI_FOUND;
}

enum sni_result
sni_parse(const uint8_t *data, size_t len, char out[SNI_NAME_MAX + 1], size_t *out_len)
{
    struct cursor c = {
        .data = data,
        .len = len,
        .msg_max = HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX,
    };

    return read_message(&c, out, out_len);
}

/* The bytes in are one record already read, so the cursor never looks for a header: at
 * their end it answers SNI_NEED_MORE. */
enum sni_result
sni_parse_message(const uint8_t *data, size_t len, char out[SNI_NAME_MAX + 1],
                  size_t *out_len)
{
    struct cursor c = {
        .data = data,
        .len = len,
        .frag_left = len,
        .msg_max = HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX,
        .seen_record = true,
    };

    return read_message(&c, out, out_len);
}

enum sni_result
sni_scan(struct sni_scan *s, const uint8_t *data, size_t len)
{
    struct cursor c = {
        .data = data,
        .len = len,
        .msg_max = HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX,
    };
    size_t hello_len;
    enum sni_result r;

    /* Bounds the message (msg_max) and judges the first records' headers. */
    r = read_handshake_header(&c, &hello_len);
    if (r != STEP_OK)
        return r;
    c.pos = s->next;
    c.msg_pos = s->msg;
    c.frag_left = 0;
    while (c.msg_pos < c.msg_max) {
        r = next_record(&c);
        if (r != STEP_OK)
            return r;
        if (c.frag_left > c.len - c.pos)
            return SNI_NEED_MORE;
        c.pos += c.frag_left;
        c.msg_pos += c.frag_left;
        c.frag_left = 0;
        s->next = (uint32_t)c.pos;
        s->msg = (uint32_t)c.msg_pos;
    }
    return SNI_COMPLETE;
}

const char *
sni_result_str(enum sni_result r)
{
    switch (r) {
    case SNI_FOUND:                     return "found";
    case SNI_NEED_MORE:                 return "need-more";
    case SNI_NO_SNI:                    return "no-sni";
    case SNI_NOT_TLS:                   return "not-tls";
    case SNI_ERR_RECORD_VERSION:        return "record-version";
    case SNI_ERR_RECORD_LENGTH:         return "record-length";
    case SNI_ERR_RECORD_TYPE:           return "record-type";
    case SNI_ERR_RECORD_TRAILING:       return "record-trailing";
    case SNI_ERR_HANDSHAKE_TYPE:        return "handshake-type";
    case SNI_ERR_HELLO_LENGTH:          return "clienthello-length";
    case SNI_ERR_TOO_LARGE:             return "too-large";
    case SNI_ERR_HELLO_VERSION:         return "clienthello-version";
    case SNI_ERR_SESSION_ID:            return "session-id";
    case SNI_ERR_CIPHER_SUITES:         return "cipher-suites";
    case SNI_ERR_COMPRESSION:           return "compression";
    case SNI_ERR_EXTENSIONS_LENGTH:     return "extensions-length";
    case SNI_ERR_EXTENSION_LENGTH:      return "extension-length";
    case SNI_ERR_DUPLICATE_EXTENSION:   return "duplicate-extension";
    case SNI_ERR_SNI_LENGTH:            return "sni-length";
    case SNI_ERR_NAME_TYPE:             return "name-type";
    case SNI_ERR_NAME:                  return "host-name";
    case SNI_ERR_TRAILING:              return "trailing-bytes";
    case SNI_COMPLETE:                  return "complete";
    }
    return "unknown";
}
