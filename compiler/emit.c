/* The C emitter.
 *
 * Measured (tests/bench/table, gcc 12 -O2): gcc spends about 10 us of CPU per element of a
 * braced initialiser, and a string literal of the same bytes still costs ~7 s and 850 MB
 * for the 180 MB of a million domains. So whatever grows with the number of domains (the
 * hash arrays, keys, sites, pools, servers and the string blob) is not C: it is written as
 * the bytes yardc holds in memory into a relocatable object of its own, <table>-data.o,
 * one read-only section and one symbol (no relocations: everything in it is an offset or
 * an index). The C file keeps what is small and worth reading (listeners, binds, logs,
 * error pages, global settings, timeouts) as designated initialisers, and the table points
 * into the data with symbol + offset expressions that the linker resolves: the runtime
 * sees the same struct yt_table as ever. An assembler's .incbin would do the same from C
 * alone, but holds the whole blob in memory once more while the data object costs nothing
 * to compile. The C file checks what the data assumes (byte order, the structs' sizes)
 * with #error and _Static_assert; the data's symbol is named after a hash of its bytes, so
 * a C file linked with another table's data does not link. */
#include "emit.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIN_ALIGN 64                /* each array of the data starts on a cache line */

/* A buffered writer over a FILE. */
struct out {
    FILE *f;
    size_t len;
    int err;                        /* first errno of a failed write, or 0 */
    char buf[1 << 16];
};

static void
out_flush(struct out *o)
{
    if (o->len > 0 && o->err == 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->err = errno != 0 ? errno : EIO;
    o->len = 0;
}

static void
out_mem(struct out *o, const char *s, size_t n)
{
    if (n > sizeof(o->buf) - o->len) {
        out_flush(o);
        if (n > sizeof(o->buf)) {
            if (o->err == 0 && fwrite(s, 1, n, o->f) != n)
                o->err = errno != 0 ? errno : EIO;
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void
out_u64(struct out *o, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out_mem(o, tmp + i, sizeof(tmp) - i);
}

/* A uint32_t that may be YT_NONE, which reads better in hex. */
static void
out_index(struct out *o, uint32_t v)
{
    if (v == YT_NONE)
        out_str(o, "0xffffffff");
    else
        out_u64(o, v);
}

static void
out_hex8(struct out *o, uint8_t v)
{
    static const char hex[] = "0123456789abcdef";
    char s[4] = { '0', 'x', hex[v >> 4], hex[v & 15] };

    out_mem(o, s, sizeof(s));
}

/* Appends byte c as the inside of a C string literal to dst and returns the bytes
 * written. Quotes and backslashes are escaped, '?' too (no trigraph can form), newline
 * and tab by name, other bytes outside printable ASCII in octal: as short as possible,
 * three digits when the next byte (-1: none in this piece) is an octal digit that would
 * extend the escape. */
static size_t
escape(char *dst, unsigned char c, int next)
{
    if (c == '"' || c == '\\' || c == '?') {
        dst[0] = '\\';
        dst[1] = (char)c;
        return 2;
    }
    if (c == '\n' || c == '\t') {
        dst[0] = '\\';
        dst[1] = c == '\n' ? 'n' : 't';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        dst[0] = (char)c;
        return 1;
    }
    dst[0] = '\\';
    if (c >= 64 || (next >= '0' && next <= '7')) {
        dst[1] = (char)('0' + (c >> 6));
        dst[2] = (char)('0' + ((c >> 3) & 7));
        dst[3] = (char)('0' + (c & 7));
        return 4;
    }
    if (c >= 8) {
        dst[1] = (char)('0' + (c >> 3));
        dst[2] = (char)('0' + (c & 7));
        return 3;
    }
    dst[1] = (char)('0' + c);
    return 2;
}

/* Writes s[0 .. n) as one C string literal. */
static void
out_c_string(struct out *o, const char *s, size_t n)
{
    out_mem(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char e[4];

        out_mem(o, e, escape(e, (unsigned char)s[i], i + 1 < n ? (unsigned char)s[i + 1] : -1));
    }
    out_mem(o, "\"", 1);
}

static void
out_yt_str(struct out *o, struct yt_str s)
{
    out_mem(o, "{ ", 2);
    out_u64(o, s.off);
    out_mem(o, ", ", 2);
    out_u64(o, s.len);
    out_mem(o, " }", 2);
}

static void
out_field_str(struct out *o, const char *field, struct yt_str s)
{
    out_str(o, field);
    out_yt_str(o, s);
}

static void
out_field_u64(struct out *o, const char *field, uint64_t v)
{
    out_str(o, field);
    out_u64(o, v);
}

static void
out_field_index(struct out *o, const char *field, uint32_t v)
{
    out_str(o, field);
    out_index(o, v);
}

/* The first line names the input; keep it one line and a comment whatever the name. */
static void
out_header(struct out *o, const char *input_name)
{
    out_str(o, "/* Generated by yardc from ");
    for (const char *p = input_name != NULL ? input_name : "-"; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c == 0x7f)
            out_mem(o, "?", 1);
        else if (c == '*' && p[1] == '/')
            out_mem(o, "* ", 2);
        else if (c == '/' && p[1] == '*')
            out_mem(o, "/ ", 2);
        else
            out_mem(o, p, 1);
    }
    out_str(o, ". Do not edit. */\n"
               "#include <sys/socket.h>\n"
               "\n"
               "#include \"table.h\"\n"
               "\n");
    out_str(o, "_Static_assert(YT_ABI == ");
    out_u64(o, YT_ABI);
    out_str(o, ", \"runtime/table.h does not match the yardc that wrote this file\");\n"
        "\n"
        "/* IPv4 addresses and flow labels in network byte order. */\n"
        "#define GEN_BE32(x) ((uint32_t)((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) | \\\n"
        "                              (((x) >> 8) & 0xff00u) | (((x) >> 24) & 0xffu)))\n");
}

/* One array of the data object: the table member that points to it, its element type,
 * its bytes, and where they start in the data. */
struct bin_part {
    const char *member, *type;
    const void *data;
    size_t len;
    uint64_t off;
};

enum { PART_DISP = 0, PART_REMAP, PART_KEYS, PART_SITES, PART_POOLS, PART_POOL_CHECKS,
       PART_SERVERS, PART_BLOB, PART_COUNT };

/* The data: the arrays of t that grow with the configuration, at their offsets, and the
 * name of its symbol, "gen_data_" and a hash of the bytes. */
struct bin {
    struct bin_part part[PART_COUNT];
    uint64_t size;                  /* the strings come last, with a NUL after them */
    char symbol[32];
};

static void
bin_layout(const struct yt_table *t, struct bin *b)
{
    struct bin_part *p = b->part;
    uint64_t off = 0, h = YT_K0;

    p[PART_DISP] = (struct bin_part){ "disp", "uint16_t", t->disp,
                                      (size_t)t->bucket_count * sizeof(*t->disp), 0 };
    p[PART_REMAP] = (struct bin_part){ "remap", "uint32_t", t->remap,
                                       (size_t)(t->slot_count - t->key_count) * sizeof(*t->remap), 0 };
    p[PART_KEYS] = (struct bin_part){ "keys", "struct yt_key", t->keys,
                                      (size_t)t->key_count * sizeof(*t->keys), 0 };
    p[PART_SITES] = (struct bin_part){ "sites", "struct yt_site", t->sites,
                                       (size_t)t->site_count * sizeof(*t->sites), 0 };
    p[PART_POOLS] = (struct bin_part){ "pools", "struct yt_pool", t->pools,
                                       (size_t)t->pool_count * sizeof(*t->pools), 0 };
    p[PART_POOL_CHECKS] = (struct bin_part){ "pool_checks", "uint32_t", t->pool_checks,
                                             t->pool_checks != NULL ?
                                             (size_t)t->pool_count * sizeof(*t->pool_checks) : 0,
                                             0 };
    p[PART_SERVERS] = (struct bin_part){ "servers", "struct yt_server", t->servers,
                                         (size_t)t->server_count * sizeof(*t->servers), 0 };
    p[PART_BLOB] = (struct bin_part){ "blob", "char", t->blob, (size_t)t->blob_len, 0 };
    for (int i = 0; i < PART_COUNT; i++) {
        p[i].off = off;
        off += (p[i].len + BIN_ALIGN - 1) / BIN_ALIGN * BIN_ALIGN;
        h = yt_hash(p[i].data, p[i].len, h ^ p[i].off);
    }
    b->size = p[PART_BLOB].off + p[PART_BLOB].len + 1;
    snprintf(b->symbol, sizeof(b->symbol), "gen_data_%016llx", (unsigned long long)h);
}

static void
out_zeros(struct out *o, uint64_t n)
{
    static const char zeros[BIN_ALIGN];

    for (; n > 0; n -= n < sizeof(zeros) ? n : sizeof(zeros))
        out_mem(o, zeros, n < sizeof(zeros) ? (size_t)n : sizeof(zeros));
}

/* The data's bytes: each part, zeros up to the next, the strings' NUL. */
static void
out_bin(struct out *o, const struct bin *b)
{
    const struct bin_part *p = b->part;

    for (int i = 0; i < PART_COUNT; i++) {
        if (p[i].len > 0)
            out_mem(o, p[i].data, p[i].len);
        out_zeros(o, (i + 1 < PART_COUNT ? p[i + 1].off : b->size) - p[i].off - p[i].len);
    }
}

/* This machine's ELF code: the data object is for the machine yardc runs on (its structs
 * are yardc's own), or 0 when yardc does not know it. */
static int
elf_machine(void)
{
#if defined(__x86_64__)
    return EM_X86_64;
#elif defined(__i386__)
    return EM_386;
#elif defined(__aarch64__)
    return EM_AARCH64;
#else
    return 0;
#endif
}

/* The sections of the data object, in order. */
enum { SEC_NULL = 0, SEC_DATA, SEC_STACK, SEC_SYMTAB, SEC_STRTAB, SEC_SHSTRTAB, SEC_COUNT };

static const char shstrtab[] =
    "\0.rodata.gen_data\0.note.GNU-stack\0.symtab\0.strtab\0.shstrtab";

/* Offset of name in shstrtab. */
static ElfW(Word)
shname(const char *name)
{
    for (size_t i = 1; i < sizeof(shstrtab); i += strlen(shstrtab + i) + 1)
        if (strcmp(shstrtab + i, name) == 0)
            return (ElfW(Word))i;
    return 0;
}

static uint64_t
align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* A relocatable object holding the data in one read-only section (.rodata.gen_data,
 * which the linker puts in .rodata), its symbol (global, hidden) over all of it, and an
 * empty .note.GNU-stack (the stack stays non-executable). Fixed field values only: the
 * same data gives the same bytes. */
static void
out_object(struct out *o, const struct bin *b)
{
    size_t symlen = strlen(b->symbol) + 1;
    uint64_t data_off = align_up(sizeof(ElfW(Ehdr)), BIN_ALIGN);
    uint64_t sym_off = align_up(data_off + b->size, 8);
    uint64_t str_off = sym_off + 2 * sizeof(ElfW(Sym));
    uint64_t shstr_off = str_off + 1 + symlen;
    uint64_t sh_off = align_up(shstr_off + sizeof(shstrtab), 8);
    ElfW(Ehdr) eh = {
        .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
                     sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32,
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                     ELFDATA2MSB,
#else
                     ELFDATA2LSB,
#endif
                     EV_CURRENT, ELFOSABI_NONE },
        .e_type = ET_REL, .e_machine = (ElfW(Half))elf_machine(), .e_version = EV_CURRENT,
        .e_shoff = sh_off, .e_ehsize = sizeof(ElfW(Ehdr)), .e_shentsize = sizeof(ElfW(Shdr)),
        .e_shnum = SEC_COUNT, .e_shstrndx = SEC_SHSTRTAB,
    };
    ElfW(Sym) sym[2] = {
        { 0 },
        { .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
          .st_other = STV_HIDDEN, .st_shndx = SEC_DATA, .st_value = 0, .st_size = b->size },
    };
    ElfW(Shdr) sh[SEC_COUNT] = {
        [SEC_DATA] = { .sh_name = shname(".rodata.gen_data"), .sh_type = SHT_PROGBITS,
                       .sh_flags = SHF_ALLOC, .sh_offset = data_off, .sh_size = b->size,
                       .sh_addralign = BIN_ALIGN },
        [SEC_STACK] = { .sh_name = shname(".note.GNU-stack"), .sh_type = SHT_PROGBITS,
                        .sh_offset = data_off, .sh_addralign = 1 },
        [SEC_SYMTAB] = { .sh_name = shname(".symtab"), .sh_type = SHT_SYMTAB,
                         .sh_offset = sym_off, .sh_size = sizeof(sym), .sh_link = SEC_STRTAB,
                         .sh_info = 1, .sh_addralign = 8, .sh_entsize = sizeof(ElfW(Sym)) },
        [SEC_STRTAB] = { .sh_name = shname(".strtab"), .sh_type = SHT_STRTAB,
                         .sh_offset = str_off, .sh_size = 1 + symlen, .sh_addralign = 1 },
        [SEC_SHSTRTAB] = { .sh_name = shname(".shstrtab"), .sh_type = SHT_STRTAB,
                           .sh_offset = shstr_off, .sh_size = sizeof(shstrtab),
                           .sh_addralign = 1 },
    };

    out_mem(o, (const char *)&eh, sizeof(eh));
    out_zeros(o, data_off - sizeof(eh));
    out_bin(o, b);
    out_zeros(o, sym_off - data_off - b->size);
    out_mem(o, (const char *)sym, sizeof(sym));
    out_mem(o, "", 1);
    out_mem(o, b->symbol, symlen);
    out_mem(o, shstrtab, sizeof(shstrtab));
    out_zeros(o, sh_off - shstr_off - sizeof(shstrtab));
    out_mem(o, (const char *)sh, sizeof(sh));
}

/* The data's bytes are yardc's own structs: the target must lay them out the same. */
static void
out_layout_check(struct out *o, const char *type, size_t size, size_t align)
{
    out_str(o, "_Static_assert(sizeof(");
    out_str(o, type);
    out_str(o, ") == ");
    out_u64(o, size);
    out_str(o, " && _Alignof(");
    out_str(o, type);
    out_str(o, ") == ");
    out_u64(o, align);
    out_str(o, ",\n               \"");
    out_str(o, type);
    out_str(o, " is not laid out as in the yardc that wrote the data\");\n");
}

/* The declaration of the data object's symbol, and what its bytes assume. */
static void
out_data_decl(struct out *o, const struct bin *b)
{
    out_str(o, "\n/* The arrays that grow with the configuration are the bytes of yardc's structs, in\n"
               " * the object yardc wrote beside this file (table-data.o): link both. They are\n"
               " * valid on a target that lays the structs out as yardc did. */\n"
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
               "#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__\n"
               "#error \"the data of this table was written for a big-endian target\"\n"
#else
               "#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
               "#error \"the data of this table was written for a little-endian target\"\n"
#endif
               "#endif\n");
    out_layout_check(o, "struct yt_key", sizeof(struct yt_key), _Alignof(struct yt_key));
    out_layout_check(o, "struct yt_site", sizeof(struct yt_site), _Alignof(struct yt_site));
    out_layout_check(o, "struct yt_pool", sizeof(struct yt_pool), _Alignof(struct yt_pool));
    out_layout_check(o, "struct yt_server", sizeof(struct yt_server), _Alignof(struct yt_server));
    out_str(o, "extern const char ");
    out_str(o, b->symbol);
    out_str(o, "[");
    out_u64(o, b->size);
    out_str(o, "] __attribute__((visibility(\"hidden\")));\n");
}

static void
out_family(struct out *o, const char *field, sa_family_t family)
{
    out_str(o, field);
    if (family == AF_INET6)
        out_str(o, "AF_INET6");
    else if (family == AF_INET)
        out_str(o, "AF_INET");
    else
        out_u64(o, family);
}

static void
out_port(struct out *o, const char *field, in_port_t port_be)
{
    out_str(o, field);
    out_str(o, "YT_BE16(");
    out_u64(o, ntohs(port_be));
    out_mem(o, ")", 1);
}

static void
out_in6(struct out *o, const struct sockaddr_in6 *a)
{
    out_mem(o, "{ ", 2);
    out_family(o, ".sin6_family = ", a->sin6_family);
    out_port(o, ", .sin6_port = ", a->sin6_port);
    if (a->sin6_flowinfo != 0) {
        out_str(o, ", .sin6_flowinfo = GEN_BE32(");
        out_u64(o, ntohl(a->sin6_flowinfo));
        out_str(o, "u)");
    }
    /* s6_addr names the byte array whatever union the C library wraps it in. */
    out_str(o, ",\n            .sin6_addr.s6_addr = { ");
    for (int i = 0; i < 16; i++) {
        if (i > 0)
            out_str(o, i == 8 ? ",\n                                   " : ", ");
        out_hex8(o, a->sin6_addr.s6_addr[i]);
    }
    out_str(o, " }");
    if (a->sin6_scope_id != 0)
        out_field_u64(o, ", .sin6_scope_id = ", a->sin6_scope_id);
    out_str(o, " }");
}

static const char *const mode_names[YT_MODE_COUNT] = {
    [YT_MODE_TLS] = "YT_MODE_TLS", [YT_MODE_HTTP] = "YT_MODE_HTTP",
    [YT_MODE_REDIRECT] = "YT_MODE_REDIRECT", [YT_MODE_METRICS] = "YT_MODE_METRICS",
    [YT_MODE_QUIC] = "YT_MODE_QUIC",
};

static void
out_listeners(struct out *o, const struct yt_listener *l, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_listener gen_listeners[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_field_str(o, "    { .name = ", l[i].name);
        out_str(o, ", .mode = ");
        if (l[i].mode < YT_MODE_COUNT)
            out_str(o, mode_names[l[i].mode]);
        else
            out_u64(o, l[i].mode);
        out_field_u64(o, ", .first_bind = ", l[i].first_bind);
        out_field_u64(o, ", .bind_count = ", l[i].bind_count);
        out_field_index(o, ",\n      .fallback_pool = ", l[i].fallback_pool);
        out_field_u64(o, ", .fallback_status = ", l[i].fallback_status);
        out_field_u64(o, ",\n      .redirect_status = ", l[i].redirect_status);
        out_field_u64(o, ", .redirect_port = ", l[i].redirect_port);
        out_field_u64(o, ", .relay = ", l[i].relay);
        out_field_u64(o, ",\n      .max_head = ", l[i].max_head);
        out_field_u64(o, ", .flags = ", l[i].flags);
        out_field_u64(o, ",\n      .sample_num = ", l[i].sample_num);
        out_field_u64(o, ", .sample_den = ", l[i].sample_den);
        out_field_u64(o, ",\n      .first_range = ", l[i].first_range);
        out_field_u64(o, ", .range_count = ", l[i].range_count);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_ranges(struct out *o, const struct yt_range *r, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_range gen_ranges[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_str(o, "    { .addr = { ");
        for (int k = 0; k < 16; k++) {
            out_u64(o, r[i].addr[k]);
            out_str(o, k < 15 ? ", " : " }");
        }
        out_field_u64(o, ", .prefix = ", r[i].prefix);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

/* A union yt_addr initialiser, then ",\n     ". */
static void
out_addr(struct out *o, const union yt_addr *a)
{
    if (a->sa.sa_family == AF_INET6) {
        out_str(o, "{ .in6 = ");
        out_in6(o, &a->in6);
        out_str(o, " },\n     ");
    } else if (a->sa.sa_family == AF_INET) {
        uint32_t ip = ntohl(a->in4.sin_addr.s_addr);

        out_family(o, "{ .in4 = { .sin_family = ", AF_INET);
        out_port(o, ", .sin_port = ", a->in4.sin_port);
        out_str(o, ",\n            .sin_addr = { .s_addr = GEN_BE32(");
        out_u64(o, ip);
        out_str(o, "u) } } }, /* ");
        for (int k = 3; k >= 0; k--) {
            out_u64(o, (ip >> (8 * k)) & 0xff);
            if (k > 0)
                out_mem(o, ".", 1);
        }
        out_str(o, " */\n     ");
    } else {
        out_family(o, "{ .sa = { .sa_family = ", a->sa.sa_family);
        out_str(o, " } },\n     ");
    }
}

static void
out_binds(struct out *o, const struct yt_bind *b, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_bind gen_binds[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_str(o, "    { .addr = ");
        out_addr(o, &b[i].addr);
        out_field_u64(o, " .v6only = ", b[i].v6only);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_logs(struct out *o, const struct yt_log *l, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_log gen_logs[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_field_u64(o, "    { .kind = ", l[i].kind);
        out_field_str(o, ", .path = ", l[i].path);
        out_field_u64(o, ", .facility = ", l[i].facility);
        out_field_u64(o, ", .level = ", l[i].level);
        out_field_u64(o, ", .format = ", l[i].format);
        if (l[i].kind == YT_LOG_UDP) {
            out_str(o, ",\n      .addr = ");
            out_addr(o, &l[i].addr);
        }
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_errors(struct out *o, const struct yt_errpage *e, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_errpage gen_errors[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_field_u64(o, "    { .status = ", e[i].status);
        out_field_str(o, ", .response = ", e[i].response);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_checks(struct out *o, const struct yt_check *c, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_check gen_checks[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_str(o, c[i].kind == YT_CHECK_HTTP ? "    { .kind = YT_CHECK_HTTP"
                                              : "    { .kind = YT_CHECK_TCP");
        out_field_u64(o, ", .interval_ms = ", c[i].interval_ms);
        out_field_u64(o, ", .timeout_ms = ", c[i].timeout_ms);
        out_field_u64(o, ",\n      .rise = ", c[i].rise);
        out_field_u64(o, ", .fall = ", c[i].fall);
        out_field_u64(o, ", .status_min = ", c[i].status_min);
        out_field_u64(o, ", .status_max = ", c[i].status_max);
        out_field_str(o, ",\n      .method = ", c[i].method);
        out_field_str(o, ", .path = ", c[i].path);
        out_field_str(o, ", .host = ", c[i].host);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

/* A pointer member into the data: its symbol plus the offset, or NULL when it has no
 * element (the strings are always there, if only their NUL). */
static void
out_ptr(struct out *o, const char *sep, const struct bin *b, int part)
{
    const struct bin_part *p = &b->part[part];

    out_str(o, sep);
    out_str(o, ".");
    out_str(o, p->member);
    if (p->len == 0 && strcmp(p->member, "blob") != 0) {
        out_str(o, " = NULL");
        return;
    }
    out_str(o, " = (const ");
    out_str(o, p->type);
    out_str(o, " *)(");
    out_str(o, b->symbol);
    out_str(o, " + ");
    out_u64(o, p->off);
    out_str(o, ")");
}

/* A pointer member to one of the arrays of this file, or NULL when it has no element. */
static void
out_array_ptr(struct out *o, const char *field, const char *name, uint64_t count)
{
    out_str(o, field);
    out_str(o, count > 0 ? name : "NULL");
}

static void
out_table(struct out *o, const struct yt_table *t, const struct bin *b)
{
    const struct yt_global *g = &t->global;
    const struct yt_timeouts *to = &t->timeouts;
    char num[24];
    int n;

    out_str(o, "\nconst struct yt_table gen_table = {\n    .abi = YT_ABI,\n");
    n = snprintf(num, sizeof(num), "%016llx", (unsigned long long)t->seed);
    out_str(o, "    .seed = 0x");
    out_mem(o, num, (size_t)n);
    out_str(o, "ull,\n");
    out_field_u64(o, "    .bucket_count = ", t->bucket_count);
    out_field_u64(o, ", .slot_count = ", t->slot_count);
    out_field_u64(o, ", .key_count = ", t->key_count);
    out_ptr(o, ",\n    ", b, PART_DISP);
    out_ptr(o, ",\n    ", b, PART_REMAP);
    out_ptr(o, ",\n    ", b, PART_KEYS);
    out_ptr(o, ",\n    ", b, PART_BLOB);
    out_field_u64(o, ", .blob_len = ", t->blob_len);
    out_ptr(o, ",\n    ", b, PART_SITES);
    out_field_u64(o, ", .site_count = ", t->site_count);
    out_ptr(o, ",\n    ", b, PART_POOLS);
    out_field_u64(o, ", .pool_count = ", t->pool_count);
    out_ptr(o, ",\n    ", b, PART_SERVERS);
    out_field_u64(o, ", .server_count = ", t->server_count);
    out_array_ptr(o, ",\n    .listeners = ", "gen_listeners", t->listener_count);
    out_field_u64(o, ", .listener_count = ", t->listener_count);
    out_array_ptr(o, ",\n    .binds = ", "gen_binds", t->bind_count);
    out_field_u64(o, ", .bind_count = ", t->bind_count);
    out_array_ptr(o, ",\n    .ranges = ", "gen_ranges", t->range_count);
    out_field_u64(o, ", .range_count = ", t->range_count);
    out_array_ptr(o, ",\n    .logs = ", "gen_logs", t->log_count);
    out_field_u64(o, ", .log_count = ", t->log_count);
    out_array_ptr(o, ",\n    .errors = ", "gen_errors", t->error_count);
    out_field_u64(o, ", .error_count = ", t->error_count);
    out_field_str(o, ",\n    .global = {\n        .user = ", g->user);
    out_field_str(o, ", .group = ", g->group);
    out_field_str(o, ", .chroot = ", g->chroot);
    out_field_str(o, ",\n        .admin_socket = ", g->admin_socket);
    n = snprintf(num, sizeof(num), "%o", (unsigned)g->admin_mode);
    out_str(o, ", .admin_mode = 0");
    out_mem(o, num, (size_t)n);
    out_field_u64(o, ", .admin_timeout_ms = ", g->admin_timeout_ms);
    out_field_u64(o, ", .admin_level = ", g->admin_level);
    out_field_u64(o, ",\n        .workers = ", g->workers);
    out_field_u64(o, ", .maxconn = ", g->maxconn);
    out_field_u64(o, ", .relay = ", g->relay);
    out_field_u64(o, ",\n    },\n    .timeouts = {\n        .connect_ms = ", to->connect_ms);
    out_field_u64(o, ", .client_ms = ", to->client_ms);
    out_field_u64(o, ", .server_ms = ", to->server_ms);
    out_field_u64(o, ", .inspect_ms = ", to->inspect_ms);
    out_field_u64(o, ",\n        .tunnel_ms = ", to->tunnel_ms);
    out_field_u64(o, ", .grace_ms = ", to->grace_ms);
    out_field_u64(o, ", .retry_ms = ", to->retry_ms);
    out_array_ptr(o, ",\n    },\n    .checks = ", "gen_checks", t->check_count);
    out_field_u64(o, ", .check_count = ", t->check_count);
    out_field_index(o, ", .default_check = ", t->default_check);
    out_ptr(o, ",\n    ", b, PART_POOL_CHECKS);
    out_field_str(o, ",\n    .config = ", t->config);
    out_field_str(o, ", .config_tail = ", t->config_tail);
    out_str(o, ",\n    .digest = ");
    out_c_string(o, t->digest, strnlen(t->digest, sizeof(t->digest) - 1));
    out_str(o, ",\n};\n");
}

static struct out *
out_open(FILE *f)
{
    struct out *o = malloc(sizeof(*o));

    if (o != NULL) {
        o->f = f;
        o->len = 0;
        o->err = 0;
    }
    return o;
}

/* Flushes and frees o; returns 0, or -1 with errno of the first failed write. */
static int
out_close(struct out *o)
{
    int err;

    out_flush(o);
    if (o->err == 0 && fflush(o->f) != 0)
        o->err = errno != 0 ? errno : EIO;
    if (o->err == 0 && ferror(o->f))
        o->err = EIO;
    err = o->err;
    free(o);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int
emit_table(FILE *c, FILE *data, const struct yt_table *t, const char *input_name)
{
    struct bin *b = malloc(sizeof(*b));
    struct out *o;
    int rc = -1;

    if (b == NULL)
        return -1;
    bin_layout(t, b);
    if (elf_machine() == 0) {
        errno = ENOTSUP;
        goto done;
    }
    o = out_open(data);
    if (o == NULL)
        goto done;
    out_object(o, b);
    if (out_close(o) == -1 || (o = out_open(c)) == NULL)
        goto done;
    out_header(o, input_name);
    out_data_decl(o, b);
    if (t->listener_count > 0)
        out_listeners(o, t->listeners, t->listener_count);
    if (t->bind_count > 0)
        out_binds(o, t->binds, t->bind_count);
    if (t->check_count > 0)
        out_checks(o, t->checks, t->check_count);
    if (t->range_count > 0)
        out_ranges(o, t->ranges, t->range_count);
    if (t->log_count > 0)
        out_logs(o, t->logs, t->log_count);
    if (t->error_count > 0)
        out_errors(o, t->errors, t->error_count);
    out_table(o, t, b);
    rc = out_close(o);
done:
    free(b);
    return rc;
}

char *
emit_data_path(const char *path)
{
    size_t n = strlen(path);
    char *data;

    if (n > 2 && strcmp(path + n - 2, ".c") == 0)
        n -= 2;
    data = malloc(n + sizeof("-data.o"));
    if (data != NULL) {
        memcpy(data, path, n);
        memcpy(data + n, "-data.o", sizeof("-data.o"));
    }
    return data;
}

/* path + ".tmp", owned. */
static char *
tmp_path(const char *path)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof(".tmp"));

    if (tmp != NULL) {
        memcpy(tmp, path, n);
        memcpy(tmp + n, ".tmp", sizeof(".tmp"));
    }
    return tmp;
}

int
emit_table_file(const char *path, const struct yt_table *t, const char *input_name)
{
    char *data = emit_data_path(path), *ctmp = tmp_path(path), *dtmp = NULL;
    FILE *cf = NULL, *df = NULL;
    int err = 0;

    if (data == NULL || ctmp == NULL || (dtmp = tmp_path(data)) == NULL) {
        err = ENOMEM;
        goto done;
    }
    cf = fopen(ctmp, "w");
    df = cf != NULL ? fopen(dtmp, "wb") : NULL;
    if (cf == NULL || df == NULL) {
        err = errno;
        goto done;
    }
    if (emit_table(cf, df, t, input_name) == -1)
        err = errno;
    if (fclose(df) != 0 && err == 0)
        err = errno;
    df = NULL;
    if (fclose(cf) != 0 && err == 0)
        err = errno;
    cf = NULL;
    /* the data first: a table.c is never newer than its data */
    if (err == 0 && rename(dtmp, data) == -1)
        err = errno;
    if (err == 0 && rename(ctmp, path) == -1)
        err = errno;
done:
    if (df != NULL)
        fclose(df);
    if (cf != NULL)
        fclose(cf);
    if (err != 0 && ctmp != NULL)
        unlink(ctmp);
    if (err != 0 && dtmp != NULL)
        unlink(dtmp);
    free(data);
    free(ctmp);
    free(dtmp);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}
