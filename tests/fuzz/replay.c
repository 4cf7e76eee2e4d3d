/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A main() for the fuzz targets without libFuzzer: runs the target once on
 * every file named, and on every file in every directory named, so that a
 * plain build replays the seed corpus as a regression test. A failed
 * oracle aborts, which fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0;

        if (!f) {
                perror(path);
                return -1;
        }
        for (;;) {
                if (n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 4096)))
                        abort();
                size_t k = fread(buf + n, 1, cap - n, f);
                if (k == 0)
                        break;
                n += k;
        }
        fclose(f);
        /* an exact copy, so that ASan sees a read past the end */
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact)
                abort();
        for (size_t i = 0; i < n; i++)
                exact[i] = buf[i];
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        return 0;
}

int main(int argc, char **argv) {
        size_t runs = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]) < 0)
                                return 1;
                        runs++;
                        continue;
                }
                struct dirent **names;
                int n = scandir(argv[i], &names, NULL, alphasort);
                if (n < 0) {
                        perror(argv[i]);
                        return 1;
                }
                for (int k = 0; k < n; k++) {
                        char path[4096];
                        if (names[k]->d_name[0] != '.') {
                                snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
                                if (run_file(path) < 0)
                                        return 1;
                                runs++;
                        }
                        free(names[k]);
                }
                free(names);
        }
        printf("%zu inputs replayed\n", runs);
        return runs > 0 ? 0 : 1;
}
