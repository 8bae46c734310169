/* yardc: compiles a switchyard routing configuration into a C table.
 *
 *     yardc [-o FILE] [-M DEPFILE] [--check] [--print] [-W<name>] [-Wno-<name>] [-Werror]
 *           FILE.yard
 *     yardc import [-o FILE] [--root DIR] [-Wno-ignored] [-Werror] haproxy.cfg
 *
 * Exit status: 0 success, 1 errors in the input, 2 usage or I/O failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "import.h"
#include "yard.h"

/* The release, from VERSION in the GNUmakefile: the same as the runtime's. */
#ifndef SY_VERSION
#define SY_VERSION "dev"
#endif

/* Writes data[0..len) to path whole or not at all: via path.tmp and rename(). */
static int
write_whole(const char *path, const char *data, size_t len)
{
    char tmp[4096];
    FILE *f;
    int failed;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    failed = fwrite(data, 1, len, f) != len;
    failed |= ferror(f);
    if (fclose(f) != 0 || failed || rename(tmp, path) == -1) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Writes make rules saying that target depends on every file the configuration read
 * (the main file, includes, domain lists, error pages), with an empty rule for each so
 * that a deleted include does not break the next build. */
static int
write_depfile(const char *path, const char *target, const struct diag *d)
{
    struct abuf b;

    abuf_init(&b, d->arena);
    abuf_printf(&b, "%s:", target);
    for (uint32_t i = 0; i < d->source_count; i++)
        abuf_printf(&b, " %s", d->sources[i].name);
    abuf_addc(&b, '\n');
    for (uint32_t i = 0; i < d->source_count; i++)
        abuf_printf(&b, "%s:\n", d->sources[i].name);
    return write_whole(path, b.data, b.len);
}

/* A sink for yt_print_config(): the canonical text to standard output. */
static void
put_stdout(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    fwrite(s, 1, len, stdout);
}

static void
usage(FILE *f)
{
    fputs("usage: yardc [-o FILE] [-M DEPFILE] [--check] [--print] [-W<name>] [-Wno-<name>]\n"
          "             [-Werror] FILE.yard\n"
          "       yardc import [-o FILE] [--root DIR] [-Wno-ignored] [-Werror] haproxy.cfg\n"
          "\n"
          "Compiles a switchyard routing configuration into a C table.\n"
          "'yardc import' translates an HAProxy configuration into a .yard file (standard\n"
          "output, or -o FILE), with an expect line per route, and checks it by compiling\n"
          "it; a line it cannot translate is an error, and nothing is written.\n"
          "\n"
          "  -o FILE       write the table to FILE (default: table.c) and its data object\n"
          "                beside it (FILE without .c, then -data.o), to link with it\n"
          "  -M DEPFILE    also write the files the table depends on, as make rules\n"
          "  --check       check only, write nothing\n"
          "  --print       print the canonical configuration to standard output\n"
          "  -Wshadowed    warn about sites a wildcard already routes the same way (on)\n"
          "  -Wunused      warn about pools nothing uses (on)\n"
          "  -Wignored     import: warn about HAProxy lines without a meaning here (on)\n"
          "  --root DIR    import: read the absolute paths of map and error files under DIR\n"
          "  -Wall         all warnings; -Wno-<name> turns one off\n"
          "  -Werror       treat warnings as errors\n"
          "  --help        show this help\n"
          "  --version     show the version\n"
          "\n"
          "Exit status: 0 success, 1 errors in the input, 2 usage or I/O failure.\n", f);
}

/* -W<name>, -Wno-<name>, -Werror: true when a is one of them (applied to d). */
static bool
warning_option(struct diag *d, const char *a, bool *bad)
{
    *bad = false;
    if (strcmp(a, "-Werror") == 0)
        d->werror = true;
    else if (strncmp(a, "-Wno-", 5) == 0)
        *bad = !diag_set_warning(d, a + 5, false);
    else if (strncmp(a, "-W", 2) == 0)
        *bad = !diag_set_warning(d, a + 2, true);
    else
        return false;
    if (*bad)
        fprintf(stderr, "yardc: unknown warning '%s'\n", a);
    return true;
}

/* The translation checks itself: compiled, expects included, before it is written. */
static int
check_translation(const char *input, const struct abuf *text, const struct diag *d)
{
    struct yard y;
    enum yard_status st;

    yard_init(&y, stderr);
    y.diag.werror = d->werror;
    st = yard_compile(&y, arena_printf(&y.arena, "%s (translated)", input), text->data,
                      text->len, false);
    diag_finish(&y.diag);
    yard_free(&y);
    if (st == YARD_OK)
        return 0;
    fprintf(stderr, "yardc: the translation of '%s' does not compile (see above)\n", input);
    return 1;
}

static int
translate(const char *input, const char *out_path, const struct import_opts *o,
          struct yard *y)
{
    struct abuf text;
    enum import_status st;

    abuf_init(&text, &y->arena);
    st = import_haproxy(&y->diag, &y->arena, input, NULL, 0, o, &text);
    diag_finish(&y->diag);
    if (st != IMPORT_OK)
        return st == IMPORT_IO_ERROR ? 2 : 1;
    if (check_translation(input, &text, &y->diag) != 0)
        return 1;
    if (out_path != NULL && write_whole(out_path, text.data, text.len) == -1) {
        fprintf(stderr, "yardc: cannot write '%s': %s\n", out_path, strerror(errno));
        return 2;
    }
    if (out_path == NULL && (fwrite(text.data, 1, text.len, stdout) != text.len ||
                             fflush(stdout) != 0)) {
        fprintf(stderr, "yardc: cannot write the translation: %s\n", strerror(errno));
        return 2;
    }
    return 0;
}

/* yardc import [-o FILE] [--root DIR] [-W...] haproxy.cfg */
static int
run_import(int argc, char **argv, struct yard *y)
{
    struct import_opts o = { .allow_fs = true };
    const char *out_path = NULL, *input = NULL;
    bool bad;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];

        if ((strcmp(a, "-o") == 0 || strcmp(a, "--root") == 0) && i + 1 == argc) {
            fprintf(stderr, "yardc: %s needs an argument\n", a);
            return -1;
        } else if (strcmp(a, "-o") == 0) {
            out_path = argv[++i];
        } else if (strcmp(a, "--root") == 0) {
            o.root = argv[++i];
        } else if (warning_option(&y->diag, a, &bad)) {
            if (bad)
                return -1;
        } else if ((a[0] == '-' && a[1] != '\0') || input != NULL) {
            fprintf(stderr, input != NULL ? "yardc: one input file only\n"
                                          : "yardc: unknown option '%s'\n", a);
            return -1;
        } else {
            input = a;
        }
    }
    if (input == NULL) {
        fputs("yardc: no input file\n", stderr);
        return -1;
    }
    return translate(input, out_path, &o, y);
}

int
main(int argc, char **argv)
{
    const char *out_path = "table.c", *dep_path = NULL, *input = NULL;
    bool check_only = false, print = false, bad;
    struct yard y;
    enum yard_status st;
    int rc = 0;

    yard_init(&y, stderr);
    if (argc > 1 && strcmp(argv[1], "import") == 0) {
        rc = run_import(argc, argv, &y);
        if (rc == -1)
            goto usage_error;
        yard_free(&y);
        return rc;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            yard_free(&y);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("yardc %s (table ABI %d)\n", SY_VERSION, YT_ABI);
            yard_free(&y);
            return 0;
        } else if (strcmp(a, "-o") == 0) {
            if (++i == argc) {
                fputs("yardc: -o needs a file name\n", stderr);
                goto usage_error;
            }
            out_path = argv[i];
        } else if (strncmp(a, "-o", 2) == 0) {
            out_path = a + 2;
        } else if (strcmp(a, "-M") == 0) {
            if (++i == argc) {
                fputs("yardc: -M needs a file name\n", stderr);
                goto usage_error;
            }
            dep_path = argv[i];
        } else if (strcmp(a, "--check") == 0) {
            check_only = true;
        } else if (strcmp(a, "--print") == 0) {
            print = true;
        } else if (warning_option(&y.diag, a, &bad)) {
            if (bad)
                goto usage_error;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "yardc: unknown option '%s'\n", a);
            goto usage_error;
        } else if (input != NULL) {
            fputs("yardc: one input file only\n", stderr);
            goto usage_error;
        } else {
            input = a;
        }
    }
    if (input == NULL) {
        fputs("yardc: no input file\n", stderr);
        goto usage_error;
    }

    st = yard_compile(&y, input, NULL, 0, true);
    diag_finish(&y.diag);
    if (st != YARD_OK) {
        yard_free(&y);
        return st == YARD_IO_ERROR ? 2 : 1;
    }
    if (print) {
        yt_print_config(&y.result.table, put_stdout, NULL);
        if (ferror(stdout) || fflush(stdout) != 0) {
            fprintf(stderr, "yardc: cannot write the canonical text: %s\n", strerror(errno));
            rc = 2;
        }
    }
    if (!check_only && !print && rc == 0 &&
        emit_table_file(out_path, &y.result.table, input) == -1) {
        fprintf(stderr, "yardc: cannot write '%s': %s\n", out_path, strerror(errno));
        rc = 2;
    }
    if (dep_path != NULL && rc == 0 && write_depfile(dep_path, out_path, &y.diag) == -1) {
        fprintf(stderr, "yardc: cannot write '%s': %s\n", dep_path, strerror(errno));
        rc = 2;
    }
    yard_free(&y);
    return rc;

usage_error:
    usage(stderr);
    yard_free(&y);
    return 2;
}
