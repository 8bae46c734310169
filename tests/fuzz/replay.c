/* Replays fuzz inputs without libFuzzer: every file named on the command line, and
 * every file inside the directories named, goes through LLVMFuzzerTestOneInput once.
 * `make test` runs each harness over its saved corpus this way, so a crash found once
 * stays fixed. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    /* An exact-size heap copy, so ASan catches any read past the input. */
    data = malloc(len > 0 ? (size_t)len : 1);
    if (data == NULL || fread(data, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "replay: %s: read failed\n", path);
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)len);
    free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    int count = 0, failed = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        struct dirent **names;
        int n;

        if (stat(argv[i], &st) == -1) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed += replay_file(argv[i]) == -1;
            count++;
            continue;
        }
        n = scandir(argv[i], &names, NULL, alphasort);
        if (n == -1) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed++;
            continue;
        }
        for (int j = 0; j < n; j++) {
            char path[4096];

            if (names[j]->d_name[0] != '.' &&
                snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name) <
                    (int)sizeof(path)) {
                failed += replay_file(path) == -1;
                count++;
            }
            free(names[j]);
        }
        free(names);
    }
    printf("replayed %d inputs, %d unreadable\n", count, failed);
    return failed != 0 || count == 0;
}
