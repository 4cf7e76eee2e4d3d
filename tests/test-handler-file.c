/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The file handler (trail_handler_file(3)): lines appended with the mode
 * asked for, a rotation noticed by the path's look, trail_reopen(), a FIFO
 * refused without blocking, a removed directory and a full file system
 * (a tiny tmpfs in a mount namespace of the test's own) counted, reported
 * once and recovered from; type = file in trail.conf and trail check. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test-util.h"

static char dir[64];

static int make_dir(void **state) {
        (void) state;
        strcpy(dir, "/tmp/trail-file-XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state) {
        (void) state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name) {
        static char p[4][256];
        static int i;
        i = (i + 1) % 4;
        snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
        return p[i];
}

/* The whole file, NUL-terminated; "" when it is absent. */
static char *slurp(const char *path, size_t *ret_len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *b;

        if (fd < 0) {
                b = calloc(1, 1);
                if (ret_len)
                        *ret_len = 0;
                return b;
        }
        assert_int_equal(fstat(fd, &st), 0);
        b = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(b);
        assert_int_equal(read(fd, b, (size_t) st.st_size), st.st_size);
        close(fd);
        if (ret_len)
                *ret_len = (size_t) st.st_size;
        return b;
}

static size_t count_in_file(const char *path, const char *needle) {
        char *b = slurp(path, NULL);
        size_t n = count_substr(b, needle);
        free(b);
        return n;
}

static void log_tagged(trail_logger *lg, const char *tag, int first, int n) {
        for (int i = first; i < first + n; i++)
                trail_info(lg, "%s-%d.", tag, i);
}

/* The descriptor of this process open on path: -1 when none. */
static int fd_of(const char *path) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int fd = -1;

        assert_non_null(d);
        while ((de = readdir(d))) {
                char link[300], target[300];
                snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
                ssize_t n = readlink(link, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, path) == 0)
                        fd = atoi(de->d_name);
        }
        closedir(d);
        return fd;
}

/* The file is made with exactly the mode asked for, whatever the umask;
 * one line per record; the descriptor does not reach exec'd programs. */
static void lines_are_appended_with_the_mode(void **state) {
        (void) state;
        const char *p = in_dir("mode.log");
        mode_t old = umask(077);
        trail_handler *h = trail_handler_file(p, "json");
        struct stat st;

        umask(old);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "mode", "0604"), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0604);
        assert_int_equal(trail_handler_set(h, "mode", "0999"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "check_interval", "soon"), -EINVAL);

        /* bytes already there stay; lines go after them */
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        assert_int_equal(write(fd, "before\n", 7), 7);
        close(fd);
        trail_logger *lg = logger_with("file.mode", h);
        log_tagged(lg, "m", 0, 3);
        char *b = slurp(p, NULL);
        assert_true(strncmp(b, "before\n{\"time\":", 15) == 0);
        assert_int_equal(count_substr(b, "\n"), 4);
        assert_int_equal(count_substr(b, "\"message\":\"m-2.\""), 1);
        free(b);

        /* the handler's descriptor: close-on-exec, appending */
        int hfd = fd_of(p);
        assert_true(hfd >= 0);
        assert_true(fcntl(hfd, F_GETFD) & FD_CLOEXEC);
        assert_true(fcntl(hfd, F_GETFL) & O_APPEND);
        assert_handler_stats(h, 3, 3, 0, 0);
        logger_without(lg, h);
}

/* A relative path is made absolute when the handler is made: a later
 * chdir() does not move the log. */
static void relative_path_is_kept_after_chdir(void **state) {
        (void) state;
        char cwd[256];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(dir), 0);
        trail_handler *h = trail_handler_file("rel.log", NULL);
        assert_int_equal(chdir("/"), 0);
        trail_logger *lg = logger_with("file.rel", h);
        assert_int_equal(trail_handler_set(h, "check_interval", "0"), 0);
        log_tagged(lg, "r", 0, 2);
        assert_int_equal(count_in_file(in_dir("rel.log"), "r-1."), 1);
        assert_int_equal(chdir(cwd), 0);
        logger_without(lg, h);
}

/* logrotate's "create": the file renamed, a new one at the path. Records
 * go to the renamed file until the handler looks again (check_interval of
 * record time), then to the new one; each is in exactly one of them. */
static void rename_is_noticed_within_the_interval(void **state) {
        (void) state;
        const char *p = in_dir("rot.log"), *p1 = in_dir("rot.log.1");
        trail_handler *h = trail_handler_file(p, NULL);
        trail_logger *lg = logger_with("file.rot", h);

        assert_int_equal(trail_handler_set(h, "check_interval", "200ms"), 0);
        log_tagged(lg, "a", 0, 5);
        assert_int_equal(rename(p, p1), 0);
        /* within the interval: still the file in hand (no stat per record) */
        log_tagged(lg, "b", 0, 5);
        assert_int_equal(count_in_file(p1, "b-4."), 1);
        usleep(300 * 1000);
        log_tagged(lg, "c", 0, 5);
        assert_int_equal(count_in_file(p, "c-0."), 1);
        assert_int_equal(count_in_file(p, "c-4."), 1);
        assert_int_equal(count_in_file(p1, "c-"), 0);
        assert_int_equal(count_in_file(p1, "a-4."), 1);
        assert_handler_stats(h, 15, 15, 0, 0);

        /* the file removed: made anew, with the mode asked for */
        assert_int_equal(trail_handler_set(h, "mode", "0620"), 0);
        assert_int_equal(unlink(p), 0);
        usleep(300 * 1000);
        log_tagged(lg, "d", 0, 2);
        assert_int_equal(count_in_file(p, "d-0."), 1);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0620);
        assert_int_equal(count_in_file(p, "c-"), 0);
        logger_without(lg, h);
}

/* trail_reopen(): the next record goes to the file the path names then,
 * however long the interval; from a signal handler too. */
static bool hup_seen;
static void on_hup(int sig) {
        (void) sig;
        int saved = errno;
        (void) trail_reopen();
        hup_seen = true;
        errno = saved;
}

static void reopen_takes_the_next_record_to_the_new_file(void **state) {
        (void) state;
        const char *p = in_dir("hup.log"), *p1 = in_dir("hup.log.1");
        trail_handler *h = trail_handler_file(p, "logfmt");
        trail_logger *lg = logger_with("file.hup", h);

        assert_int_equal(trail_handler_set(h, "check_interval", "1h"), 0);
        log_tagged(lg, "a", 0, 3);
        assert_int_equal(rename(p, p1), 0);
        usleep(50 * 1000);
        log_tagged(lg, "b", 0, 3);
        assert_int_equal(count_in_file(p1, "b-2."), 1); /* an hour is not up */
        assert_int_equal(trail_reopen(), 0);
        log_tagged(lg, "c", 0, 3);
        assert_int_equal(count_in_file(p, "c-0."), 1);
        assert_int_equal(count_in_file(p1, "c-"), 0);
        /* the new file under the same descriptor: still close-on-exec */
        int hfd = fd_of(p);
        assert_true(hfd >= 0);
        assert_true(fcntl(hfd, F_GETFD) & FD_CLOEXEC);
        assert_true(fcntl(hfd, F_GETFL) & O_APPEND);

        /* from SIGHUP */
        struct sigaction sa = {.sa_handler = on_hup};
        assert_int_equal(sigaction(SIGHUP, &sa, NULL), 0);
        assert_int_equal(rename(p, in_dir("hup.log.2")), 0);
        assert_int_equal(raise(SIGHUP), 0);
        assert_true(hup_seen);
        log_tagged(lg, "d", 0, 3);
        assert_int_equal(count_in_file(p, "d-0."), 1);
        assert_int_equal(count_in_file(p, "c-"), 0);
        signal(SIGHUP, SIG_DFL);
        assert_handler_stats(h, 12, 12, 0, 0);
        logger_without(lg, h);
}

/* trail_reopen() and renames while 4 threads log: the swap under the
 * descriptor neither loses nor doubles a record, and closes nothing a
 * thread is writing to. */
#define SWAP_THREADS 4
#define SWAP_RECORDS 4000
static trail_logger *swap_lg;

static void *swap_producer(void *arg) {
        int t = (int) (intptr_t) arg;
        struct timespec pause = {0, 20 * 1000};
        for (int n = 0; n < SWAP_RECORDS; n++) {
                trail_info(swap_lg, "s%d-%d.", t, n);
                nanosleep(&pause, NULL);
        }
        return NULL;
}

static void reopen_while_threads_log_loses_and_doubles_nothing(void **state) {
        (void) state;
        const char *p = in_dir("swap.log");
        trail_handler *h = trail_handler_file(p, NULL);
        pthread_t th[SWAP_THREADS];
        char moved[300];
        int rotations = 0;

        swap_lg = logger_with("file.swap", h);
        assert_int_equal(trail_handler_set(h, "check_interval", "1h"), 0);
        for (int t = 0; t < SWAP_THREADS; t++)
                assert_int_equal(pthread_create(&th[t], NULL, swap_producer, (void *) (intptr_t) t),
                                 0);
        for (; rotations < 20; rotations++) {
                usleep(5 * 1000);
                snprintf(moved, sizeof(moved), "%s.%d", p, rotations);
                /* absent when no record came since the last reopen */
                assert_true(rename(p, moved) == 0 || errno == ENOENT);
                assert_int_equal(trail_reopen(), 0);
        }
        for (int t = 0; t < SWAP_THREADS; t++)
                assert_int_equal(pthread_join(th[t], NULL), 0);

        /* every file read into one text */
        size_t cap = 1 << 20, len = 0, nonempty = 0;
        char *all = malloc(cap);
        assert_non_null(all);
        for (int i = -1; i < rotations; i++) {
                size_t n = 0;
                if (i >= 0)
                        snprintf(moved, sizeof(moved), "%s.%d", p, i);
                char *b = slurp(i < 0 ? p : moved, &n);
                nonempty += n > 0;
                if (len + n + 1 > cap) {
                        cap = (len + n + 1) * 2;
                        all = realloc(all, cap);
                        assert_non_null(all);
                }
                memcpy(all + len, b, n);
                len += n;
                free(b);
        }
        all[len] = '\0';
        assert_true(nonempty >= 10); /* each reopen took the records to the new file */
        assert_int_equal(count_substr(all, "\n"), SWAP_THREADS * SWAP_RECORDS);
        for (int t = 0; t < SWAP_THREADS; t++)
                for (int n = 0; n < SWAP_RECORDS; n += 97) {
                        char want[32];
                        snprintf(want, sizeof(want), ": s%d-%d.\n", t, n);
                        assert_int_equal(count_substr(all, want), 1);
                }
        free(all);
        assert_handler_stats(h, SWAP_THREADS * SWAP_RECORDS, SWAP_THREADS * SWAP_RECORDS, 0, 0);
        logger_without(swap_lg, h);
}

/* Behind an async handler (the advice for NFS): records delivered by the
 * worker, in order. */
static void behind_an_async_handler_every_record_arrives(void **state) {
        (void) state;
        const char *p = in_dir("async.log");
        trail_handler *f = trail_handler_file(p, "logfmt");
        trail_handler *h = trail_handler_async(f, 0, TRAIL_OVERFLOW_BLOCK);
        trail_handler_unref(f);
        trail_logger *lg = logger_with("file.async", h);

        log_tagged(lg, "q", 0, 1000);
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(count_in_file(p, "\n"), 1000);
        assert_int_equal(count_in_file(p, "q-999."), 1);
        logger_without(lg, h);
}

/* A FIFO at the path: no hang, on opening or on reopening after rotation,
 * and no record into it. */
static void fifo_is_refused_without_blocking(void **state) {
        (void) state;
        const char *p = in_dir("fifo.log");
        uint64_t t0;

        assert_int_equal(mkfifo(p, 0600), 0);
        t0 = now_usec();
        errno = 0;
        assert_null(trail_handler_file(p, NULL));
        assert_int_equal(errno, EINVAL); /* not opened: not a regular file */
        assert_true(now_usec() - t0 < 2000000);
        assert_int_equal(unlink(p), 0);

        off_t start = stderr_offset();
        trail_handler *h = trail_handler_file(p, NULL);
        trail_logger *lg = logger_with("file.fifo", h);
        assert_int_equal(trail_handler_set(h, "check_interval", "0"), 0);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(mkfifo(p, 0600), 0);
        int rfd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a reader: open would succeed */
        log_tagged(lg, "f", 0, 3);
        char buf[64];
        assert_int_equal(read(rfd, buf, sizeof(buf)), 0); /* no writer ever: nothing */
        close(rfd);
        assert_handler_stats(h, 3, 0, 3, 3);
        assert_int_equal(count_substr(stderr_from(start), "(reported once)"), 1);
        logger_without(lg, h);
        unlink(p);
}

/* The directory removed: every record counted as lost, one report; the
 * directory back: the file is made anew and records resume. */
static void removed_directory_is_counted_reported_once_and_recovered(void **state) {
        (void) state;
        const char *sub = in_dir("sub"), *p = in_dir("sub/app.log");
        char cmd[300];

        assert_int_equal(mkdir(sub, 0700), 0);
        trail_handler *h = trail_handler_file(p, NULL);
        trail_logger *lg = logger_with("file.rmdir", h);
        assert_int_equal(trail_handler_set(h, "check_interval", "50ms"), 0);
        log_tagged(lg, "a", 0, 3);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sub);
        assert_int_equal(system(cmd), 0);
        usleep(100 * 1000);

        off_t start = stderr_offset();
        log_tagged(lg, "b", 0, 100);
        assert_handler_stats(h, 103, 3, 100, 100);
        const char *err = stderr_from(start);
        assert_int_equal(count_substr(err, "trail: cannot open"), 1);
        assert_int_equal(count_substr(err, "No such file or directory"), 1);

        assert_int_equal(mkdir(sub, 0700), 0);
        usleep(100 * 1000);
        log_tagged(lg, "c", 0, 10);
        assert_handler_stats(h, 113, 13, 100, 100);
        assert_int_equal(count_in_file(p, "c-9."), 1);
        assert_int_equal(count_in_file(p, "b-"), 0);
        assert_int_equal(count_substr(stderr_from(start), "trail:"), 1);
        logger_without(lg, h);
}

/* trail.conf: type = file with path, format, mode and a formatter option;
 * trail check creates nothing and names a missing directory. */
static void config_builds_file_handlers_and_check_creates_nothing(void **state) {
        (void) state;
        char conf[256], p[256];
        snprintf(conf, sizeof(conf), "%s", in_dir("trail.conf"));
        snprintf(p, sizeof(p), "%s", in_dir("conf.log"));
        FILE *f = fopen(conf, "w");

        assert_non_null(f);
        fprintf(f,
                "[trail]\nhandlers = file\nlevel = info\n"
                "[handler file]\ntype = file\npath = %s\nformat = json\nmode = 0600\n"
                "check_interval = 100ms\n",
                p);
        fclose(f);
        assert_int_equal(trail_configure_full(conf, TRAIL_CONFIGURE_CHECK, NULL, NULL), 0);
        assert_int_equal(access(p, F_OK), -1); /* check: nothing created */

        f = fopen(in_dir("bad.conf"), "w");
        fprintf(f, "[trail]\nhandlers = file\n[handler file]\ntype = file\npath = %s/nodir/x.log\n",
                dir);
        fclose(f);
        off_t start = stderr_offset();
        assert_int_equal(
                trail_configure_full(in_dir("bad.conf"), TRAIL_CONFIGURE_CHECK, NULL, NULL),
                -ENOENT);
        assert_int_equal(count_substr(stderr_from(start), "cannot open"), 1);
        f = fopen(in_dir("nopath.conf"), "w");
        fprintf(f, "[trail]\nhandlers = file\n[handler file]\ntype = file\n");
        fclose(f);
        assert_true(trail_configure_full(in_dir("nopath.conf"), TRAIL_CONFIGURE_CHECK, NULL, NULL) <
                    0);

        /* refused for another reason: no file made either; nor for a
         * handler no logger uses */
        f = fopen(in_dir("refused.conf"), "w");
        fprintf(f,
                "[trail]\nhandlers = file\nbogus = 1\n[handler file]\ntype = file\npath = %s\n"
                "[handler unused]\ntype = file\npath = %s.unused\n",
                p, p);
        fclose(f);
        assert_true(trail_configure_full(in_dir("refused.conf"), 0, NULL, NULL) < 0);
        assert_int_equal(access(p, F_OK), -1);
        f = fopen(in_dir("unused.conf"), "w");
        fprintf(f, "[trail]\nlevel = info\n[handler unused]\ntype = file\npath = %s.unused\n", p);
        fclose(f);
        assert_int_equal(trail_configure(in_dir("unused.conf")), 0);
        char unused[300];
        snprintf(unused, sizeof(unused), "%s.unused", p);
        assert_int_equal(access(unused, F_OK), -1);

        assert_int_equal(trail_configure(conf), 0);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        trail_logger *lg = trail_get("file.conf");
        trail_info(lg, "from the configuration");
        assert_int_equal(count_in_file(p, "\"message\":\"from the configuration\""), 1);

        /* a reload reopens: the renamed file gets nothing more */
        assert_int_equal(rename(p, in_dir("conf.log.1")), 0);
        assert_int_equal(trail_configure(conf), 0);
        trail_info(lg, "after the reload");
        assert_int_equal(count_in_file(p, "after the reload"), 1);
        assert_int_equal(count_in_file(in_dir("conf.log.1"), "after the reload"), 0);
        assert_int_equal(trail_configure(NULL), 0);
}

/* Last: the process moves to a mount namespace of its own. A tmpfs of 64
 * KiB fills up: records fail with ENOSPC, counted, one report; space freed:
 * records resume, and the line a full disk cut is ended before the next. */
static void full_file_system_is_counted_reported_once_and_recovered(void **state) {
        (void) state;
        const char *mnt = in_dir("tiny"), *p = in_dir("tiny/app.log"), *fill = in_dir("tiny/fill");
        trail_stats st;

        if (private_mount_namespace() != 0)
                skip();
        assert_int_equal(mkdir(mnt, 0700), 0);
        assert_int_equal(mount("tmpfs", mnt, "tmpfs", 0, "size=64k"), 0);
        trail_handler *h = trail_handler_file(p, NULL);
        trail_logger *lg = logger_with("file.enospc", h);
        log_tagged(lg, "a", 0, 5);
        /* fill the rest */
        int fd = open(fill, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        char block[4096];
        memset(block, 'x', sizeof(block));
        while (write(fd, block, sizeof(block)) > 0)
                ;
        while (write(fd, block, 1) > 0)
                ;

        off_t start = stderr_offset();
        log_tagged(lg, "b", 0, 2000);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 2005);
        assert_true(st.failed >= 1900); /* the last page of app.log may take some */
        assert_int_equal(st.failed, st.lost);
        assert_int_equal(st.delivered + st.failed, 2005);
        const char *err = stderr_from(start);
        assert_int_equal(count_substr(err, "trail:"), 1);
        assert_int_equal(count_substr(err, "No space left on device"), 1);

        assert_int_equal(ftruncate(fd, 0), 0);
        close(fd);
        log_tagged(lg, "c", 0, 10);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered + st.failed, 2015);
        char *b = slurp(p, NULL);
        /* every c line whole, on a line of its own */
        for (int i = 0; i < 10; i++) {
                char want[32];
                snprintf(want, sizeof(want), "c-%d.", i);
                const char *at = strstr(b, want);
                assert_non_null(at);
                const char *bol = at;
                while (bol > b && bol[-1] != '\n')
                        bol--;
                /* "TIME INFO file.enospc: c-N.": nothing of a cut line before it */
                assert_true(bol[0] == '2' && at - bol < 60);
                assert_memory_equal(at - 19, " INFO file.enospc: ", 19);
                assert_non_null(strchr(at, '\n'));
        }
        assert_int_equal(count_substr(stderr_from(start), "trail:"), 1);
        free(b);
        logger_without(lg, h);
        umount2(mnt, MNT_DETACH);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(lines_are_appended_with_the_mode),
                cmocka_unit_test(relative_path_is_kept_after_chdir),
                cmocka_unit_test(rename_is_noticed_within_the_interval),
                cmocka_unit_test(reopen_takes_the_next_record_to_the_new_file),
                cmocka_unit_test(reopen_while_threads_log_loses_and_doubles_nothing),
                cmocka_unit_test(behind_an_async_handler_every_record_arrives),
                cmocka_unit_test(fifo_is_refused_without_blocking),
                cmocka_unit_test(removed_directory_is_counted_reported_once_and_recovered),
                cmocka_unit_test(config_builds_file_handlers_and_check_creates_nothing),
                cmocka_unit_test(full_file_system_is_counted_reported_once_and_recovered),
        };
        int r;

        stderr_capture();
        r = cmocka_run_group_tests(tests, make_dir, remove_dir);
        stderr_restore(r != 0);
        return r;
}
