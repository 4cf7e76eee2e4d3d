/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the configuration loader (config.c, trail.conf(5)). The input
 * is the file; a first line "#!TRAIL_LEVEL=…" (a comment to the parser) also
 * sets $TRAIL_LEVEL. Each input is loaded with TRAIL_CONFIGURE_CHECK, and
 * when refused, loaded for real too. Oracles:
 *   - the result is 0 or a negative errno, and the same both times;
 *   - the file's errors come iff the result is negative, each with this
 *     file's name, a line within the file (0 only without a key), and a
 *     non-empty key and a message that fit in one line of "FILE:LINE: key:
 *     why" (no control characters but tabs); both loads report the same
 *     errors;
 *   - a check logs nothing; a refused load logs exactly one record, the
 *     CONFIG_ERROR one;
 *   - nothing changes: a probe record logged to the root before and after
 *     (its level, ident, facility, global fields, redaction, scrubbing,
 *     backtrace, rendered as RFC 3164 without the time) and the levels of
 *     the root and of the loggers the file names are the same. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-input.h"

static trail_handler *capture;
static trail_logger *root;
static trail_formatter *probe_format;
static char *baseline;

struct error_log {
        const char *path;
        size_t file_lines;
        size_t n_file, n_env;
        struct fuzz_buf text; /* every error, one per line */
};

static bool one_line(const char *s) {
        for (; *s; s++)
                if (((unsigned char) *s < 0x20 && *s != '\t') || *s == 0x7f)
                        return false;
        return true;
}

static void on_error(const char *file, unsigned line, const char *key, const char *message,
                     void *userdata) {
        struct error_log *log = userdata;
        char head[64];

        FUZZ_CHECK(file && message && *message, "error without file or message");
        if (strcmp(file, "$TRAIL_LEVEL") == 0) {
                /* the environment's words are ignored with a warning, the
                 * file still loads */
                FUZZ_CHECK(line == 0 && !key, "$TRAIL_LEVEL error with a line or key");
                log->n_env++;
        } else {
                FUZZ_CHECK(strcmp(file, log->path) == 0, "error for file \"%s\"", file);
                FUZZ_CHECK(line <= log->file_lines, "line %u of a %zu-line file", line,
                           log->file_lines);
                FUZZ_CHECK(line > 0 || !key, "key \"%s\" without a line", key);
                FUZZ_CHECK(one_line(message) && (!key || (*key && one_line(key))),
                           "error does not fit one line: %s: %s", key ? key : "", message);
                log->n_file++;
        }
        snprintf(head, sizeof(head), "%s:%u: ", file, line);
        fuzz_buf_put(&log->text, head, strlen(head));
        if (key) {
                fuzz_buf_put(&log->text, key, strlen(key));
                fuzz_buf_put(&log->text, ": ", 2);
        }
        fuzz_buf_put(&log->text, message, strlen(message));
        fuzz_buf_put(&log->text, "\n", 1);
}

/* The logging configuration, as the API shows it. */
static char *observe(const char *const *names, size_t n_names) {
        struct fuzz_buf b = {};
        char tmp[64];

        fuzz_buf_put(&b, "", 0);
        trail_capture_clear(capture);
        trail_log_with(root, TRAIL_ERROR,
                       TRAIL_FIELDS(TRAIL_STR("PASSWORD", "hunter2"), TRAIL_STR("USER", "alice")),
                       "probe password=hunter2 token 4111111111111111");
        size_t n = trail_capture_count(capture);
        snprintf(tmp, sizeof(tmp), "records %zu root %d\n", n, trail_logger_level(root));
        fuzz_buf_put(&b, tmp, strlen(tmp));
        for (size_t i = 0; i < n; i++) {
                const trail_record *r = trail_capture_get(capture, i);
                int len = trail_formatter_format(probe_format, r, NULL, 0);
                char *line = malloc((size_t) len + 1), *gt;
                if (!line || trail_formatter_format(probe_format, r, line, (size_t) len + 1) != len)
                        abort();
                /* "<PRI>Mmm dd hh:mm:ss TAG…": without the time */
                gt = strchr(line, '>');
                FUZZ_CHECK(gt && strlen(gt) > 16, "probe: %s", line);
                fuzz_buf_put(&b, line, (size_t) (gt + 1 - line));
                fuzz_buf_put(&b, gt + 16, strlen(gt + 16));
                fuzz_buf_put(&b, "\n", 1);
                free(line);
        }
        for (size_t i = 0; i < n_names; i++) {
                trail_logger *lg = trail_get(names[i]);
                snprintf(tmp, sizeof(tmp), "%d\n", lg ? trail_logger_level(lg) : -1);
                fuzz_buf_put(&b, names[i], strlen(names[i]));
                fuzz_buf_put(&b, "=", 1);
                fuzz_buf_put(&b, tmp, strlen(tmp));
        }
        trail_capture_clear(capture);
        return (char *) b.p;
}

/* The names of up to max [logger NAME] sections (malloc'd). */
static size_t logger_names(const uint8_t *data, size_t size, char **names, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i + 8 < size && n < max; i++) {
                if ((i > 0 && data[i - 1] != '\n') || memcmp(data + i, "[logger ", 8) != 0)
                        continue;
                const uint8_t *s = data + i + 8, *e = memchr(s, ']', size - i - 8);
                const uint8_t *nl = memchr(s, '\n', size - i - 8);
                if (!e || (nl && nl < e) || e - s > 200)
                        continue;
                names[n] = strndup((const char *) s, (size_t) (e - s));
                if (!names[n])
                        abort();
                n++;
        }
        return n;
}

static void setup(void) {
        if (capture)
                return;
        unsetenv("TRAIL_CONFIG");
        unsetenv("TRAIL_LEVEL");
        capture = trail_handler_capture();
        root = trail_get(NULL);
        probe_format = trail_formatter_new("rfc3164");
        /* the probe and trail's own records stay here: nothing reaches journald */
        if (!capture || !root || !probe_format || trail_logger_add_handler(root, capture) < 0)
                abort();
        baseline = observe(NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct error_log check = {}, apply = {};
        char path[64], *names[4], *env = NULL;
        int fd, r_check, r_apply;

        setup();
        if (size >= 14 && memcmp(data, "#!TRAIL_LEVEL=", 14) == 0) {
                const uint8_t *nl = memchr(data, '\n', size);
                struct fuzz_part p = {data + 14, (nl ? (size_t) (nl - data) : size) - 14};
                env = fuzz_cstr(p);
                setenv("TRAIL_LEVEL", env, 1);
        }
        size_t n_names = logger_names(data, size, names, 4);
        char *before = observe((const char *const *) names, n_names);
        FUZZ_CHECK(strncmp(before, baseline, strlen(baseline)) == 0, "state drifted:\n%s\nwas:\n%s",
                   before, baseline);

        fd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        check.path = apply.path = path;
        check.file_lines = apply.file_lines = 1;
        for (size_t i = 0; i < size; i++)
                check.file_lines += data[i] == '\n';
        apply.file_lines = check.file_lines;

        r_check = trail_configure_full(path, TRAIL_CONFIGURE_CHECK, on_error, &check);
        FUZZ_CHECK(r_check <= 0 && r_check > -4096, "check: %d", r_check);
        FUZZ_CHECK((r_check < 0) == (check.n_file > 0), "check: %d with %zu errors", r_check,
                   check.n_file);
        char *after = observe((const char *const *) names, n_names);
        FUZZ_CHECK(strcmp(before, after) == 0, "a check changed something:\n%s\nwas:\n%s", after,
                   before);
        free(after);

        if (r_check < 0) {
                /* for real: refused the same way, one record, nothing changed */
                trail_capture_clear(capture);
                r_apply = trail_configure_full(path, 0, on_error, &apply);
                FUZZ_CHECK(r_apply == r_check, "apply: %d, check: %d", r_apply, r_check);
                FUZZ_CHECK(apply.text.n == check.text.n &&
                                   memcmp(apply.text.p, check.text.p, apply.text.n) == 0,
                           "errors differ:\n%s\nand:\n%s", (const char *) apply.text.p,
                           (const char *) check.text.p);
                FUZZ_CHECK(trail_capture_count(capture) == 1, "%zu records for a refused file",
                           trail_capture_count(capture));
                trail_field_view id;
                FUZZ_CHECK(trail_record_find(trail_capture_get(capture, 0), "MESSAGE_ID", &id) ==
                                           0 &&
                                   id.len == 32 &&
                                   memcmp(id.value.s, TRAIL_MESSAGE_ID_CONFIG_ERROR, 32) == 0,
                           "not the CONFIG_ERROR record");
                after = observe((const char *const *) names, n_names);
                FUZZ_CHECK(strcmp(before, after) == 0,
                           "a refused file changed something:\n%s\nwas:\n%s", after, before);
                free(after);
        }

        close(fd);
        if (env) {
                unsetenv("TRAIL_LEVEL");
                free(env);
        }
        for (size_t i = 0; i < n_names; i++)
                free(names[i]);
        free(before);
        free(check.text.p);
        free(apply.text.p);
        return 0;
}
