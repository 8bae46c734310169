/* yardc: compiles a switchyard routing configuration into a C table.
 *
 *     yardc [-o FILE] [-M DEPFILE] [--check] [--print] [-W<name>] [-Wno-<name>] [-Werror]
 *           FILE.yard
 *
 * Exit status: 0 success, 1 errors in the input, 2 usage or I/O failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "yard.h"

#define YARDC_VERSION "0.1"

/* Writes make rules saying that target depends on every file the configuration read
 * (the main file, includes, domain lists, error pages), with an empty rule for each so
 * that a deleted include does not break the next build. Via path.tmp and rename(). */
static int
write_depfile(const char *path, const char *target, const struct diag *d)
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
    fprintf(f, "%s:", target);
    for (uint32_t i = 0; i < d->source_count; i++)
        fprintf(f, " %s", d->sources[i].name);
    fputc('\n', f);
    for (uint32_t i = 0; i < d->source_count; i++)
        fprintf(f, "%s:\n", d->sources[i].name);
    failed = ferror(f);
    if (fclose(f) != 0 || failed || rename(tmp, path) == -1) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static void
usage(FILE *f)
{
    fputs("usage: yardc [-o FILE] [-M DEPFILE] [--check] [--print] [-W<name>] [-Wno-<name>]\n"
          "             [-Werror] FILE.yard\n"
          "\n"
          "Compiles a switchyard routing configuration into a C table.\n"
          "\n"
          "  -o FILE       write the table to FILE (default: table.c)\n"
          "  -M DEPFILE    also write the files the table depends on, as make rules\n"
          "  --check       check only, write nothing\n"
          "  --print       print the canonical configuration to standard output\n"
          "  -Wshadowed    warn about sites a wildcard already routes the same way (on)\n"
          "  -Wunused      warn about pools nothing uses (on)\n"
          "  -Wall         all warnings; -Wno-<name> turns one off\n"
          "  -Werror       treat warnings as errors\n"
          "  --help        show this help\n"
          "  --version     show the version\n"
          "\n"
          "Exit status: 0 success, 1 errors in the input, 2 usage or I/O failure.\n", f);
}

int
main(int argc, char **argv)
{
    const char *out_path = "table.c", *dep_path = NULL, *input = NULL;
    bool check_only = false, print = false;
    struct yard y;
    enum yard_status st;
    int rc = 0;

    yard_init(&y, stderr);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            yard_free(&y);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("yardc %s (table ABI %d)\n", YARDC_VERSION, YT_ABI);
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
        } else if (strcmp(a, "-Werror") == 0) {
            y.diag.werror = true;
        } else if (strncmp(a, "-Wno-", 5) == 0) {
            if (!diag_set_warning(&y.diag, a + 5, false)) {
                fprintf(stderr, "yardc: unknown warning '%s'\n", a);
                goto usage_error;
            }
        } else if (strncmp(a, "-W", 2) == 0) {
            if (!diag_set_warning(&y.diag, a + 2, true)) {
                fprintf(stderr, "yardc: unknown warning '%s'\n", a);
                goto usage_error;
            }
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
        const struct yt_table *t = &y.result.table;

        if (fwrite(t->blob + t->config.off, 1, t->config.len, stdout) != t->config.len ||
            fflush(stdout) != 0) {
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
