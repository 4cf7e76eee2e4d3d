/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5)'s limits: a path that is not a regular file (/dev/zero, a
 * symlink to it, a FIFO nobody writes, a directory) is refused at once, a file
 * over 4 MiB or a line over 197 bytes is refused without being read whole,
 * and the cost of a file grows with its size, not its square. Each refusal
 * leaves the configuration in force as it was. A test that would hang
 * without the limits is guarded by alarm() (or a CPU-time timer): it then
 * dies of the signal, and fails, instead of hanging the suite. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "config-util.h"

#define SIZE_MAX_BYTES (4 * 1024 * 1024)

static char self[4096];

/* A configuration in force before each refusal: app at debug into the sink. */
static void apply_known(void) {
        struct errbuf e = {};
        const char *path = conf_write("[trail]\nlevel = warning\n\n[logger app]\nlevel = debug\n"
                                      "handlers = mem\n\n[handler mem]\ntype = stream\nfd = %d\n",
                                      sink);
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        unlink(path);
        free(memfd_take(sink));
}

/* The known configuration is still the one in force. */
static void assert_known_in_force(void) {
        assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_WARNING);
        assert_int_equal(trail_logger_level(trail_get("app")), TRAIL_DEBUG);
        trail_debug(trail_get("app"), "still configured");
        char *out = memfd_take(sink);
        assert_non_null(strstr(out, "still configured"));
        free(out);
}

/* Refused within the alarm, with this error, and nothing changed. */
static void assert_refused(const char *path, int want_r, const char *want_error) {
        struct errbuf e = {};
        char want[512];

        apply_known();
        alarm(10);
        int r = trail_configure_full(path, 0, errbuf_add, &e);
        alarm(0);
        assert_int_equal(r, want_r);
        snprintf(want, sizeof(want), "%s: %s\n", path, want_error);
        if (strcmp(e.text, want) != 0)
                fail_msg("errors: %s, want: %s", e.text, want);
        assert_known_in_force();

        /* trail check's path, check mode: the same */
        e = (struct errbuf){};
        alarm(10);
        r = trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e);
        alarm(0);
        assert_int_equal(r, want_r);
        assert_string_equal(e.text, want);
}

static void dev_zero_is_refused_at_once(void **state) {
        (void) state;
        assert_refused("/dev/zero", -EINVAL, "cannot open: a character device, not a regular file");
}

static void a_symlink_to_dev_zero_is_refused_and_one_to_a_file_is_followed(void **state) {
        (void) state;
        char link[] = "/tmp/trail-test-link-XXXXXX";
        assert_non_null(mkdtemp(link));
        char path[128];
        snprintf(path, sizeof(path), "%s/zero.conf", link);
        assert_int_equal(symlink("/dev/zero", path), 0);
        assert_refused(path, -EINVAL, "cannot open: a character device, not a regular file");
        unlink(path);

        /* a symlink to a regular file is fine */
        const char *target = conf_write("[trail]\nlevel = error\n");
        assert_int_equal(symlink(target, path), 0);
        struct errbuf e = {};
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_ERROR);
        unlink(path);
        unlink(target);
        rmdir(link);
        free(memfd_take(sink));
}

static void a_fifo_without_a_writer_is_refused_at_once(void **state) {
        (void) state;
        char dir[] = "/tmp/trail-test-fifo-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/fifo.conf", dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        /* fopen() would wait for a writer for ever: the alarm fails it */
        assert_refused(path, -EINVAL, "cannot open: a FIFO, not a regular file");
        unlink(path);
        rmdir(dir);
}

static void a_directory_is_refused(void **state) {
        (void) state;
        char dir[] = "/tmp/trail-test-dir-XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_refused(dir, -EISDIR, "cannot open: a directory, not a regular file");
        rmdir(dir);
}

/* A valid file, all comments after its one line, one byte over the limit:
 * refused for its size, before a byte of it is parsed. */
static void a_file_over_the_size_limit_is_refused(void **state) {
        (void) state;
        char path[64];
        strcpy(path, conf_write("[trail]\nlevel = error\n"));
        FILE *f = fopen(path, "a");
        assert_non_null(f);
        long size = ftell(f);
        char comment[128];
        memset(comment, 'x', sizeof(comment));
        comment[0] = ';';
        comment[sizeof(comment) - 1] = '\n';
        for (; size + (long) sizeof(comment) <= SIZE_MAX_BYTES; size += sizeof(comment))
                fwrite(comment, sizeof(comment), 1, f);
        for (; size < SIZE_MAX_BYTES; size++)
                fputc('\n', f);
        fclose(f);

        /* exactly at the limit: read, and valid */
        struct errbuf e = {};
        assert_int_equal(trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);

        /* one byte more */
        f = fopen(path, "a");
        fputc('\n', f);
        fclose(f);
        assert_refused(path, -EFBIG, "larger than 4194304 bytes");
        unlink(path);
}

/* A line over 197 bytes is an error at the limit; what follows on the line
 * is skipped unread (the NUL past the limit is never seen), and the next
 * line is read as usual. */
static void a_line_over_the_limit_is_an_error_and_read_no_further(void **state) {
        (void) state;
        char path[64];
        strcpy(path, conf_write("[trail]\nlevel = error\n"));
        FILE *f = fopen(path, "a");
        fputs("ident = ", f);
        for (int i = 0; i < 300; i++)
                fputc('x', f);
        fputc('\0', f);
        for (int i = 0; i < 1024 * 1024; i++)
                fputc('y', f);
        fputs("\n[bogus]\n", f);
        fclose(f);
        struct errbuf e = {};
        apply_known();
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), -EINVAL);
        char want[512];
        snprintf(want, sizeof(want),
                 "%s:3: line longer than 197 bytes: continue the value on an indented line\n"
                 "%s:4: unknown section [bogus] (known: [trail], [logger NAME], [handler NAME], "
                 "[filter])\n",
                 path, path);
        assert_string_equal(e.text, want);
        assert_known_in_force();
        unlink(path);
}

/* Linear, proven without measuring speed: 100k [handler] sections and 30k
 * loggers (3.9 MB) are checked, loaded, and loaded again as a reload, within
 * 120 s of this process's CPU time (ITIMER_PROF: a loaded machine slows the
 * clock on the wall, not this one). The cost was quadratic (2k, 4k, 8k
 * sections: 0.4, 1.0, 3.3 s): the check alone of this file took over 3 CPU
 * minutes, and SIGPROF killed the test. Linear, the whole takes about 2 s of
 * CPU, 6 s under ASan, 30 s under valgrind. */
#define N_HANDLERS 100000
#define N_LOGGERS  30000

static void a_hundred_thousand_handler_sections_load(void **state) {
        (void) state;
        const char *path = conf_write("[trail]\nlevel = warning\nhandlers = h00000\n");
        FILE *f = fopen(path, "a");
        for (int i = 0; i < N_HANDLERS; i++)
                if (i == 0 || i == 0x1234)
                        fprintf(f, "[handler h%05x]\ntype=stream\nfd=%d\n", i, sink);
                else
                        fprintf(f, "[handler h%05x]\ntype=stream\n", i);
        for (int i = 0; i < N_LOGGERS; i++)
                fprintf(f, "[logger l%05x]\nhandlers=h%05x\n", i, i);
        fclose(f);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size <= SIZE_MAX_BYTES);

        struct itimerval guard = {.it_value = {.tv_sec = 120}}, off = {};
        assert_int_equal(setitimer(ITIMER_PROF, &guard, NULL), 0);
        struct errbuf e = {};
        assert_int_equal(trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e), 0);
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0); /* a reload */
        assert_int_equal(setitimer(ITIMER_PROF, &off, NULL), 0);
        assert_int_equal(e.n, 0);

        free(memfd_take(sink));
        trail_warning(trail_get("l01234"), "through its own handler");
        char *out = memfd_take(sink);
        /* its own handler, and the root's by propagation */
        char *first = strstr(out, "through its own handler");
        assert_non_null(first);
        assert_non_null(strstr(first + 1, "through its own handler"));
        free(out);
        unlink(path);
}

/* Run as a child of its own (the first trail_get() of a process is what
 * reads $TRAIL_CONFIG): $TRAIL_CONFIG=/dev/zero is refused at the first
 * trail_get(), which returns at once, and records go to the default
 * handler. Exit 0 on success. */
static int autoload_child(void) {
        alarm(10);
        trail_logger *lg = trail_get("app");
        alarm(0);
        if (!lg)
                return 1;
        if (trail_logger_level(lg) != TRAIL_INFO)
                return 2;
        if (trail_info(lg, "logged through the default handler") < 0)
                return 3;
        (void) trail_flush();
        trail_stats st;
        if (trail_get_stats(&st) < 0 || st.lost > 0)
                return 4;
        return 0;
}

static void trail_config_dev_zero_leaves_the_default(void **state) {
        (void) state;
        int err[2];
        assert_int_equal(pipe(err), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(err[1], STDERR_FILENO);
                close(err[0]);
                close(err[1]);
                setenv("TRAIL_CONFIG", "/dev/zero", 1);
                unsetenv("TRAIL_LEVEL");
                execl(self, self, "--autoload-child", (char *) NULL);
                _exit(127);
        }
        close(err[1]);
        char text[8192] = "";
        size_t n = 0;
        ssize_t k;
        while (n < sizeof(text) - 1 && (k = read(err[0], text + n, sizeof(text) - 1 - n)) > 0)
                n += (size_t) k;
        close(err[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("child status %#x, stderr: %s", status, text);
        assert_non_null(strstr(text, "/dev/zero: cannot open: a character device, not a regular "
                                     "file\n"));
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(dev_zero_is_refused_at_once),
                cmocka_unit_test(a_symlink_to_dev_zero_is_refused_and_one_to_a_file_is_followed),
                cmocka_unit_test(a_fifo_without_a_writer_is_refused_at_once),
                cmocka_unit_test(a_directory_is_refused),
                cmocka_unit_test(a_file_over_the_size_limit_is_refused),
                cmocka_unit_test(a_line_over_the_limit_is_an_error_and_read_no_further),
                cmocka_unit_test(a_hundred_thousand_handler_sections_load),
                cmocka_unit_test(trail_config_dev_zero_leaves_the_default),
        };

        if (argc > 1 && strcmp(argv[1], "--autoload-child") == 0)
                return autoload_child();
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0)
                return 1;
        self[n] = '\0';
        unsetenv("TRAIL_CONFIG");
        unsetenv("TRAIL_LEVEL");
        return cmocka_run_group_tests(tests, sink_setup, sink_teardown);
}
