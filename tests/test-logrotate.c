/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The file handler under the real logrotate(8): 4 threads log numbered
 * records while `logrotate -f` (a state file and configuration of the
 * test's own) rotates the file several times. Then the live file and every
 * rotated one (gunzipped) are read back:
 *  - create, and compress + delaycompress: every record exactly once, and
 *    the last records in the live file (the handler followed the path);
 *  - copytruncate: no record twice, no NUL byte (every write landed at the
 *    end of the truncated file, never at its old offset), every line whole;
 *    lines written between logrotate's copy and its truncation are lost by
 *    logrotate's design, and only counted here.
 * The test name picks the mode: create, delaycompress or copytruncate. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test-util.h"

#define THREADS   4
#define ROTATIONS 6
#define MAX_SEQ   200000

extern char **environ;

static char dir[64], logpath[128];
static trail_logger *lg;
static bool stop; /* atomic */
static int logged[THREADS];

static void *producer(void *arg) {
        int t = (int) (intptr_t) arg, n = 0;
        struct timespec pause = {0, 200 * 1000};

        while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE) && n < MAX_SEQ) {
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_INT("T", t), TRAIL_INT("N", n)), "rec %d-%d",
                                t, n);
                n++;
                nanosleep(&pause, NULL);
        }
        logged[t] = n;
        return NULL;
}

static void run_logrotate(const char *conf, const char *state) {
        char *argv[] = {"logrotate", "-f", "-s", (char *) state, (char *) conf, NULL};
        pid_t pid;
        int status;

        assert_int_equal(posix_spawnp(&pid, "logrotate", NULL, NULL, argv, environ), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* The contents of one file, gunzipped when it ends in .gz; *ret_len bytes. */
static char *read_log(const char *path, size_t *ret_len) {
        char cmd[400];
        size_t len = 0, cap = 1 << 20;
        char *b = malloc(cap + 1);
        FILE *f;

        assert_non_null(b);
        if (strlen(path) > 3 && strcmp(path + strlen(path) - 3, ".gz") == 0) {
                snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
                f = popen(cmd, "r");
        } else
                f = fopen(path, "r");
        assert_non_null(f);
        for (;;) {
                if (cap - len < 65536) {
                        cap *= 2;
                        b = realloc(b, cap + 1);
                        assert_non_null(b);
                }
                size_t n = fread(b + len, 1, cap - len, f);
                if (n == 0)
                        break;
                len += n;
        }
        if (f && strstr(path, ".gz"))
                assert_int_equal(pclose(f), 0);
        else
                fclose(f);
        b[len] = '\0';
        *ret_len = len;
        return b;
}

struct tally {
        unsigned char *seen[THREADS]; /* per record: how many times it was read */
        size_t files, lines, bad_lines, nul_bytes, live_nul_bytes;
        /* a rotated file's last line without its end: logrotate's copy read
         * a line half written, and the truncation took the whole one */
        size_t unended, live_unended;
        int live_last[THREADS]; /* the highest N of each thread in the live file */
};

static void tally_file(struct tally *ta, const char *path, bool live) {
        size_t len;
        char *b = read_log(path, &len);

        ta->files++;
        for (size_t i = 0; i < len; i++)
                if (b[i] == '\0') {
                        ta->nul_bytes++;
                        if (live)
                                ta->live_nul_bytes++;
                        b[i] = '#'; /* counted; the lines around it stay readable */
                }
        for (char *line = b, *nl; *line; line = nl + 1) {
                int t, n;
                nl = strchr(line, '\n');
                if (!nl) {
                        ta->unended++;
                        ta->live_unended += live;
                        break;
                }
                *nl = '\0';
                ta->lines++;
                const char *m = strstr(line, "\"message\":\"rec ");
                if (line[0] != '{' || nl[-1] != '}' || !m ||
                    sscanf(m, "\"message\":\"rec %d-%d\"", &t, &n) != 2 || t < 0 || t >= THREADS ||
                    n < 0 || n >= MAX_SEQ) {
                        ta->bad_lines++;
                        continue;
                }
                if (ta->seen[t][n] < 255)
                        ta->seen[t][n]++;
                if (live && n > ta->live_last[t])
                        ta->live_last[t] = n;
        }
        free(b);
}

static void rotate_while_logging(const char *name, const char *options, bool copytruncate) {
        char conf[160], state[160], path[300];
        pthread_t th[THREADS];
        struct tally ta = {};
        FILE *f;

        strcpy(dir, "/tmp/trail-logrotate-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(logpath, sizeof(logpath), "%s/app.log", dir);
        snprintf(conf, sizeof(conf), "%s/rotate.conf", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        f = fopen(conf, "w");
        assert_non_null(f);
        fprintf(f, "%s {\n\trotate 1000\n\tmissingok\n%s}\n", logpath, options);
        fclose(f);

        trail_handler *h = trail_handler_file(logpath, "json");
        assert_non_null(h);
        /* looked at every 100 ms: well within the 400 ms between rotations
         * that delaycompress needs (see trail_handler_file(3)) */
        assert_int_equal(trail_handler_set(h, "check_interval", "100ms"), 0);
        lg = logger_with("rotate", h);
        __atomic_store_n(&stop, false, __ATOMIC_RELAXED);
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_create(&th[t], NULL, producer, (void *) (intptr_t) t), 0);
        for (int i = 0; i < ROTATIONS; i++) {
                usleep(400 * 1000);
                run_logrotate(conf, state);
        }
        usleep(400 * 1000); /* the last rotation noticed, records in the new file */
        __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_join(th[t], NULL), 0);

        for (int t = 0; t < THREADS; t++) {
                ta.seen[t] = calloc(MAX_SEQ, 1);
                ta.live_last[t] = -1;
        }
        DIR *d = opendir(dir);
        struct dirent *de;
        assert_non_null(d);
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "app.log", 7) != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                tally_file(&ta, path, strcmp(de->d_name, "app.log") == 0);
        }
        closedir(d);

        size_t total = 0, once = 0, twice = 0, missing = 0;
        for (int t = 0; t < THREADS; t++)
                for (int n = 0; n < logged[t]; n++) {
                        total++;
                        once += ta.seen[t][n] == 1;
                        twice += ta.seen[t][n] > 1;
                        missing += ta.seen[t][n] == 0;
                }
        printf("# %s: %zu records, %zu files, %zu lines, %zu missing, %zu doubled, %zu bad "
               "lines, %zu cut, %zu NUL bytes\n",
               name, total, ta.files, ta.lines, missing, twice, ta.bad_lines, ta.unended,
               ta.nul_bytes);
        assert_true(ta.files >= (size_t) ROTATIONS); /* it did rotate */
        assert_true(total > 1000);
        assert_int_equal(twice, 0);
        assert_int_equal(ta.bad_lines, 0);
        assert_int_equal(ta.live_nul_bytes, 0);
        assert_int_equal(ta.nul_bytes, 0);
        assert_int_equal(ta.live_unended, 0);
        if (copytruncate) {
                assert_true(once * 2 > total); /* lost: only copy-to-truncate windows */
                assert_true(ta.unended <= ROTATIONS);
        } else {
                assert_int_equal(ta.unended, 0);
                assert_int_equal(missing, 0);
                assert_int_equal(once, total);
                /* the handler followed the path: each thread's last record
                 * is in the live file */
                for (int t = 0; t < THREADS; t++)
                        assert_int_equal(ta.live_last[t], logged[t] - 1);
        }
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, total);
        assert_int_equal(st.lost, 0);

        logger_without(lg, h);
        for (int t = 0; t < THREADS; t++)
                free(ta.seen[t]);
        snprintf(path, sizeof(path), "rm -rf '%s'", dir);
        assert_int_equal(system(path), 0);
}

static void create(void **state) {
        (void) state;
        rotate_while_logging("create", "\tcreate 0640\n", false);
}

static void delaycompress(void **state) {
        (void) state;
        rotate_while_logging("delaycompress", "\tcreate 0640\n\tcompress\n\tdelaycompress\n",
                             false);
}

static void copytruncate(void **state) {
        (void) state;
        rotate_while_logging("copytruncate", "\tcopytruncate\n", true);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(create),
                cmocka_unit_test(delaycompress),
                cmocka_unit_test(copytruncate),
        };
        char *argv0[] = {"logrotate", "--version", NULL};
        pid_t pid;
        int status;

        /* logrotate is a Debian package scripts/setup-host.sh installs */
        if (posix_spawnp(&pid, "logrotate", NULL, NULL, argv0, environ) != 0 ||
            waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "logrotate is not installed: skipped\n");
                return 77;
        }
        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
