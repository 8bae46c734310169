/* The lexer of the routing language. re2c turns this into build/gen/grammar/lexer.c.
 *
 * It runs over one source held in memory and NUL-terminated (re2c:eof with the NUL as
 * sentinel); a NUL before the end is an error, not the end. Outside strings and comments
 * the input must be ASCII or valid UTF-8 (domain names may be written in Unicode; the
 * checks turn them into A-labels). Keywords are matched here; the grammar lets a keyword
 * stand for a name where only a name can go (%fallback), so a pool may be called `http`. */
#include "lexer.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parser.h"

/*!re2c
    re2c:api:style = free-form;
    re2c:define:YYCTYPE = "unsigned char";
    re2c:define:YYCURSOR = "lx->cur";
    re2c:define:YYMARKER = "lx->mar";
    re2c:define:YYLIMIT = "lx->lim";
    re2c:eof = 0;
    re2c:yyfill:enable = 0;

    u8 = [\xc2-\xdf][\x80-\xbf]
       | "\xe0"[\xa0-\xbf][\x80-\xbf]
       | [\xe1-\xec\xee\xef][\x80-\xbf]{2}
       | "\xed"[\x80-\x9f][\x80-\xbf]
       | "\xf0"[\x90-\xbf][\x80-\xbf]{2}
       | [\xf1-\xf3][\x80-\xbf]{3}
       | "\xf4"[\x80-\x8f][\x80-\xbf]{2};
    wch = [a-zA-Z0-9_.*-] | u8;
    hex = [0-9a-fA-F];
    sch = [^"\\\n\x00];
    esc = "\\" ([\\"nrt] | "x" hex hex);
*/

/* The keywords, sorted; each with its description for messages ("'acme'"). */
#define KW(word, tok) { word, "'" word "'", tok }
static const struct {
    const char *text;
    const char *quoted;
    int tok;
} keywords[] = {
    KW("accept-proxy", TK_ACCEPT_PROXY),
    KW("acme", TK_ACME),
    KW("admin", TK_ADMIN),
    KW("alert", TK_ALERT),
    KW("backup", TK_BACKUP),
    KW("check", TK_CHECK),
    KW("chroot", TK_CHROOT),
    KW("defaults", TK_DEFAULTS),
    KW("domains", TK_DOMAINS),
    KW("dontlognull", TK_DONTLOGNULL),
    KW("error", TK_ERROR),
    KW("expect", TK_EXPECT),
    KW("fallback", TK_FALLBACK),
    KW("file", TK_FILE),
    KW("forwarded-for", TK_FORWARDED_FOR),
    KW("from", TK_FROM),
    KW("global", TK_GLOBAL),
    KW("group", TK_GROUP),
    KW("http", TK_HTTP),
    KW("include", TK_INCLUDE),
    KW("level", TK_LEVEL),
    KW("listen", TK_LISTEN),
    KW("log", TK_LOG),
    KW("log-format", TK_LOG_FORMAT),
    KW("max-head", TK_MAX_HEAD),
    KW("maxconn", TK_MAXCONN),
    KW("metrics", TK_METRICS),
    KW("mode", TK_MODE),
    KW("off", TK_OFF),
    KW("optional", TK_OPTIONAL),
    KW("pool", TK_POOL),
    KW("port", TK_PORT),
    KW("quic", TK_QUIC),
    KW("redirect", TK_REDIRECT),
    KW("relay", TK_RELAY),
    KW("sample", TK_SAMPLE),
    KW("send-proxy", TK_SEND_PROXY),
    KW("send-proxy-v2", TK_SEND_PROXY_V2),
    KW("server", TK_SERVER),
    KW("site", TK_SITE),
    KW("status", TK_STATUS),
    KW("stderr", TK_STDERR),
    KW("syslog", TK_SYSLOG),
    KW("text", TK_TEXT),
    KW("timeout", TK_TIMEOUT),
    KW("tls", TK_TLS),
    KW("udp", TK_UDP),
    KW("user", TK_USER),
    KW("weight", TK_WEIGHT),
    KW("workers", TK_WORKERS),
};
#undef KW

int
lexer_keyword(const char *text, uint32_t len)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (strlen(keywords[i].text) == len && memcmp(keywords[i].text, text, len) == 0)
            return keywords[i].tok;
    return 0;
}

int
lexer_is_keyword(int tok)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (keywords[i].tok == tok)
            return 1;
    return 0;
}

const char *
lexer_token_desc(int tok)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (keywords[i].tok == tok)
            return keywords[i].quoted;
    switch (tok) {
    case 0: return "end of input";
    case TK_LBRACE: return "'{'";
    case TK_RBRACE: return "'}'";
    case TK_SEMI: return "';'";
    case TK_COMMA: return "','";
    case TK_ARROW: return "'->'";
    case TK_WORD: return "a name";
    case TK_STRING: return "a string";
    case TK_NUMBER: return "a number";
    case TK_NUMUNIT: return "a number with a unit";
    case TK_ADDR: return "an address";
    case TK_RATIO: return "a ratio";
    default: return "a token";
    }
}

void
lexer_init(struct lexer *lx, uint32_t src, const char *text, uint32_t len)
{
    lx->base = (const unsigned char *)text;
    lx->cur = lx->base;
    lx->lim = lx->base + len;
    lx->mar = lx->base;
    lx->src = src;
    lx->error = NULL;
}

/* Length of the valid UTF-8 prefix of p[0..n). */
static size_t
utf8_valid_prefix(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = p[i];
        size_t k;
        unsigned min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            min = 0x10000;
        } else {
            return i;
        }
        if (k > n - i - 1)
            return i;
        unsigned cp = c & (0x3fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + j] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += k + 1;
    }
    return n;
}

static int
error_at(struct lexer *lx, struct loc *tok, const unsigned char *p, uint32_t len,
         const char *why)
{
    tok->off = (uint32_t)(p - lx->base);
    tok->len = len;
    lx->error = why;
    return LEXER_ERROR;
}

int
lexer_next(struct lexer *lx, struct loc *tok)
{
    const unsigned char *start;

    tok->src = lx->src;
    lx->error = NULL;
    for (;;) {
        start = lx->cur;
        tok->off = (uint32_t)(start - lx->base);
/*!re2c
    $ { tok->len = 0; return LEXER_EOF; }

    [ \t\r\n]+ { continue; }
    "#" [^\n\x00]* {
        size_t n = (size_t)(lx->cur - start);
        size_t ok = utf8_valid_prefix(start, n);

        if (ok < n)
            return error_at(lx, tok, start + ok, 1, "invalid UTF-8 in comment");
        continue;
    }

    "{"  { tok->len = 1; return TK_LBRACE; }
    "}"  { tok->len = 1; return TK_RBRACE; }
    ";"  { tok->len = 1; return TK_SEMI; }
    ","  { tok->len = 1; return TK_COMMA; }
    "->" { tok->len = 2; return TK_ARROW; }

    "include" { tok->len = 7; return TK_INCLUDE; }
    "global" { tok->len = 6; return TK_GLOBAL; }
    "defaults" { tok->len = 8; return TK_DEFAULTS; }
    "listen" { tok->len = 6; return TK_LISTEN; }
    "pool" { tok->len = 4; return TK_POOL; }
    "site" { tok->len = 4; return TK_SITE; }
    "domains" { tok->len = 7; return TK_DOMAINS; }
    "expect" { tok->len = 6; return TK_EXPECT; }
    "user" { tok->len = 4; return TK_USER; }
    "group" { tok->len = 5; return TK_GROUP; }
    "chroot" { tok->len = 6; return TK_CHROOT; }
    "log" { tok->len = 3; return TK_LOG; }
    "stderr" { tok->len = 6; return TK_STDERR; }
    "syslog" { tok->len = 6; return TK_SYSLOG; }
    "admin" { tok->len = 5; return TK_ADMIN; }
    "mode" { tok->len = 4; return TK_MODE; }
    "level" { tok->len = 5; return TK_LEVEL; }
    "timeout" { tok->len = 7; return TK_TIMEOUT; }
    "workers" { tok->len = 7; return TK_WORKERS; }
    "maxconn" { tok->len = 7; return TK_MAXCONN; }
    "relay" { tok->len = 5; return TK_RELAY; }
    "dontlognull" { tok->len = 11; return TK_DONTLOGNULL; }
    "error" { tok->len = 5; return TK_ERROR; }
    "file" { tok->len = 4; return TK_FILE; }
    "text" { tok->len = 4; return TK_TEXT; }
    "http" { tok->len = 4; return TK_HTTP; }
    "tls" { tok->len = 3; return TK_TLS; }
    "quic" { tok->len = 4; return TK_QUIC; }
    "redirect" { tok->len = 8; return TK_REDIRECT; }
    "fallback" { tok->len = 8; return TK_FALLBACK; }
    "forwarded-for" { tok->len = 13; return TK_FORWARDED_FOR; }
    "max-head" { tok->len = 8; return TK_MAX_HEAD; }
    "status" { tok->len = 6; return TK_STATUS; }
    "port" { tok->len = 4; return TK_PORT; }
    "server" { tok->len = 6; return TK_SERVER; }
    "weight" { tok->len = 6; return TK_WEIGHT; }
    "backup" { tok->len = 6; return TK_BACKUP; }
    "send-proxy" { tok->len = 10; return TK_SEND_PROXY; }
    "send-proxy-v2" { tok->len = 13; return TK_SEND_PROXY_V2; }
    "acme" { tok->len = 4; return TK_ACME; }
    "alert" { tok->len = 5; return TK_ALERT; }
    "udp" { tok->len = 3; return TK_UDP; }
    "log-format" { tok->len = 10; return TK_LOG_FORMAT; }
    "off" { tok->len = 3; return TK_OFF; }
    "sample" { tok->len = 6; return TK_SAMPLE; }
    "accept-proxy" { tok->len = 12; return TK_ACCEPT_PROXY; }
    "optional" { tok->len = 8; return TK_OPTIONAL; }
    "from" { tok->len = 4; return TK_FROM; }
    "metrics" { tok->len = 7; return TK_METRICS; }
    "check" { tok->len = 5; return TK_CHECK; }

    [0-9]+ { tok->len = (uint32_t)(lx->cur - start); return TK_NUMBER; }
    [0-9]+ [a-zA-Z]+ { tok->len = (uint32_t)(lx->cur - start); return TK_NUMUNIT; }
    [0-9]+ "/" [0-9]+ { tok->len = (uint32_t)(lx->cur - start); return TK_RATIO; }

    "[" [^\]\x00-\x20;{}#,"]* "]" (":" [0-9a-zA-Z]*)? {
        tok->len = (uint32_t)(lx->cur - start);
        return TK_ADDR;
    }
    [0-9a-fA-F.*]* ":" [0-9a-fA-F:.]* {
        tok->len = (uint32_t)(lx->cur - start);
        return TK_ADDR;
    }
    /* A source range: "10.0.0.0/8", "2001:db8::/32", "[2001:db8::]/32" (a dot or a colon
     * before the '/': "1/100" is a ratio). */
    ([0-9a-fA-F]* [.:] [0-9a-fA-F.:]* | "[" [^\]\x00-\x20;{}#,"]* "]") "/" [0-9a-zA-Z]* {
        tok->len = (uint32_t)(lx->cur - start);
        return TK_ADDR;
    }
    "[" { return error_at(lx, tok, start, 1, "unterminated '[' in address"); }
    /* A host name with a port ("web1.internal:443") is one address too, so that the checks
     * can say what an address must be; a keyword before the ':' stays a keyword
     * ("http:80" reads as `http :80`). */
    wch+ ":" [0-9a-zA-Z]* {
        const unsigned char *colon = memchr(start, ':', (size_t)(lx->cur - start));
        int kw = lexer_keyword((const char *)start, (uint32_t)(colon - start));

        if (kw != 0) {
            lx->cur = colon;
            tok->len = (uint32_t)(colon - start);
            return kw;
        }
        tok->len = (uint32_t)(lx->cur - start);
        return TK_ADDR;
    }

    wch+ { tok->len = (uint32_t)(lx->cur - start); return TK_WORD; }

    "\"" (sch | esc)* "\"" { tok->len = (uint32_t)(lx->cur - start); return TK_STRING; }
    "\"" (sch | "\\" [^\n\x00])* "\"" {
        const unsigned char *p = start + 1;

        for (;;) {
            if (*p == '\\') {
                if (p[1] == 'x' && !(p[2] && strchr("0123456789abcdefABCDEF", p[2]) &&
                                     p[3] && strchr("0123456789abcdefABCDEF", p[3])))
                    return error_at(lx, tok, p, 2, "invalid '\\x' escape in string: "
                                    "two hex digits must follow");
                if (p[1] != 'x' && !strchr("\\\"nrt", p[1]))
                    return error_at(lx, tok, p, 2, "invalid escape in string");
                p += 2;
            } else {
                p++;
            }
        }
    }
    "\"" (sch | "\\" [^\n\x00])* "\\"? {
        return error_at(lx, tok, start, 1, "unterminated string");
    }

    "\x00" { return error_at(lx, tok, start, 1, "NUL byte in input"); }
    [\x80-\xff] {
        return error_at(lx, tok, start, 1, "invalid UTF-8 in input");
    }
    [^] {
        if (*start >= 0x20 && *start < 0x7f)
            snprintf(lx->msg, sizeof(lx->msg), "unexpected character '%c'", *start);
        else
            snprintf(lx->msg, sizeof(lx->msg), "unexpected byte 0x%02x", *start);
        return error_at(lx, tok, start, 1, lx->msg);
    }
*/
    }
}
