/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL) as the
 * journald handler speaks it: the bytes on the wire, and what the real
 * journald makes of them. In a private mount namespace, a socket of the
 * test's own at the journal's path receives the exact serialisation and the
 * sealed memfd of an entry past the send buffer. Through the real journald:
 * every byte value round-trips, such an entry arrives whole, and a record of
 * more iovecs than IOV_MAX keeps exactly its last fields and counts the rest.
 * Needs root (a mount namespace); exits 77 without. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define JDIR       "/run/systemd/journal"
#define JSOCKET    JDIR "/socket"
#define TIMEOUT_MS 15000
#define IDENT      "jsend-wire"
#define FACILITY   1

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static trail_logger *own_logger(const char *name, trail_handler *h) {
        trail_logger *lg = trail_get(name);

        assert_non_null(lg);
        assert_non_null(h);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        return lg;
}

static void drop_logger(trail_logger *lg, trail_handler *h) {
        assert_int_equal(trail_logger_remove_handler(lg, h), 0);
        trail_handler_unref(h);
}

static void assert_stats(trail_handler *h, uint64_t delivered, uint64_t failed) {
        trail_stats st;

        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, delivered);
        assert_int_equal(st.failed, failed);
        assert_int_equal(st.lost, 0);
}

/* The largest datagram the handler's socket could send: what SO_SNDBUF gives
 * a socket that asks for the 8 MiB the handler asks for. Past it, sendmsg()
 * fails with EMSGSIZE and the entry must go by memfd. */
static size_t datagram_limit(void) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), v = 8 * 1024 * 1024;
        socklen_t l = sizeof(v);

        assert_true(fd >= 0);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
        close(fd);
        return (size_t) v;
}

/* Every byte value, newlines and NULs among them, in a pattern that does not
 * repeat with a short period. */
static char *every_byte(size_t n) {
        char *p = malloc(n);

        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
                p[i] = (char) ((i % 251) ^ (i >> 11));
        return p;
}

static void assert_value(const struct jentry *e, const char *name, const void *v, size_t len) {
        size_t got_len;
        const char *got = jentry_get(e, name, &got_len);

        if (!got)
                fail_msg("%s: missing", name);
        if (jentry_count(e, name) != 1)
                fail_msg("%s: %zu times", name, jentry_count(e, name));
        if (got_len != len || memcmp(got, v, len) != 0)
                fail_msg("%s: %zu bytes, not the %zu sent", name, got_len, len);
}

/* ---- Records of many fields -------------------------------------------------
 * trail_fields(3): journald's native protocol makes a field 2 iovecs, 5 when
 * its value holds a newline, and sendmsg() takes at most IOV_MAX (1024).
 * trail keeps room for its own nine fields (18 iovecs, 21 when MESSAGE holds
 * a newline) and for TRUNCATED_FIELDS (2), which leaves 1004 (1001) for the
 * call's fields; past that it leaves out those of lowest precedence, the
 * call's first, until the rest fit. The cases below count by hand what that
 * leaves out. */

static const struct many_case {
        size_t n;        /* F0 … F(n-1), then a plain id field: n + 1 fields */
        size_t nl_every; /* F<i> holds a newline when i % nl_every == 0 */
        bool message_nl;
        size_t left_out;
} many_cases[] = {
        {501, 0, false, 0}, /* 502 × 2 = 1004: all of them */
        {502, 0, false, 1}, /* 503 × 2 = 1006: one too many */
        {502, 0, true, 3},  /* 1001 / 2 = 500 of the 503 */
        {200, 1, false, 0}, /* 2 + 200 × 5 = 1002 */
        {201, 1, false, 1}, /* 1004 - 1002 = 2 < 5: F0 is left out */
        /* every third holds a newline: from the end, the id (2), 111 groups
         * of F(3j)..F(3j+2) (9 each: 999, down to F267), F266 (2), and
         * F265 no longer fits: 266 left out */
        {600, 3, false, 266},
};

struct many {
        trail_field *f;
        char (*names)[24];
        bool *nl;
        size_t n;       /* F0 … F(n-1), then the id field */
        char value[24]; /* scratch for expected values */
};

/* n fields F<i>: "two\nlines" when i % nl_every == 0 (never when 0), else
 * the number i; then id_name=id, plain, last. */
static struct many many_new(size_t n, size_t nl_every, const char *id_name, const char *id) {
        struct many m = {.n = n};

        m.f = calloc(n + 1, sizeof(*m.f));
        m.names = calloc(n, sizeof(*m.names));
        m.nl = calloc(n + 1, sizeof(*m.nl));
        assert_true(m.f && m.names && m.nl);
        for (size_t i = 0; i < n; i++) {
                snprintf(m.names[i], sizeof(m.names[i]), "F%zu", i);
                m.nl[i] = nl_every && i % nl_every == 0;
                m.f[i] = m.nl[i] ? TRAIL_STR(m.names[i], "two\nlines") : TRAIL_UINT(m.names[i], i);
        }
        m.f[n] = TRAIL_STR(id_name, id);
        return m;
}

static void many_free(struct many *m) {
        free(m->f);
        free(m->names);
        free(m->nl);
}

static const char *many_value(struct many *m, size_t i, size_t *len) {
        if (m->nl[i]) {
                *len = 9;
                return "two\nlines";
        }
        *len = (size_t) snprintf(m->value, sizeof(m->value), "%zu", i);
        return m->value;
}

/* ---- The wire, in a private mount namespace --------------------------------- */

/* The spec's serialisation, written here independently of the handler. */
static void expect_field(FILE *f, const char *name, const void *v, size_t len) {
        fputs(name, f);
        if (memchr(v, '\n', len)) {
                uint64_t le = htole64((uint64_t) len);
                fputc('\n', f);
                fwrite(&le, sizeof(le), 1, f);
        } else
                fputc('=', f);
        fwrite(v, 1, len, f);
        fputc('\n', f);
}

static void expect_str(FILE *f, const char *name, const char *v) {
        expect_field(f, name, v, strlen(v));
}

static void expect_num(FILE *f, const char *name, long v) {
        char s[24];
        expect_field(f, name, s, (size_t) snprintf(s, sizeof(s), "%ld", v));
}

/* trail's own nine fields, sent first (trail(7)), in the order
 * lib/handler-journald.c sends them: trail(7)'s table lists SYSLOG_FACILITY
 * before LOGGER, but the order means nothing to journald. */
static void expect_own_fields(FILE *f, const char *message, int level, const char *logger, int line,
                              const char *func) {
        expect_str(f, "MESSAGE", message);
        expect_num(f, "PRIORITY", level);
        expect_str(f, "SYSLOG_IDENTIFIER", IDENT);
        expect_str(f, "LOGGER", logger);
        expect_num(f, "SYSLOG_FACILITY", FACILITY);
        expect_str(f, "CODE_FILE", __FILE__);
        expect_num(f, "CODE_LINE", line);
        expect_str(f, "CODE_FUNC", func);
        expect_num(f, "TID", gettid());
}

/* A socket of the test's own at journald's path. */
static int socket_at_journal_path(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JSOCKET};
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

/* One datagram, carrying no descriptor, exactly as expected. */
static void assert_datagram(int fd, const char *want, size_t want_len) {
        static char got[1 << 20];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control;
        struct iovec v = {got, sizeof(got)};
        struct msghdr mh = {.msg_iov = &v,
                            .msg_iovlen = 1,
                            .msg_control = &control,
                            .msg_controllen = sizeof(control)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        assert_true(n >= 0);
        assert_int_equal(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
        assert_int_equal(mh.msg_controllen, 0);
        assert_int_equal(n, want_len);
        assert_memory_equal(got, want, want_len);
}

/* One empty datagram carrying exactly one descriptor: a memfd with all four
 * seals. Returns its content (to free), *ret_len its size. */
static char *receive_memfd(int fd, size_t *ret_len) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control;
        char byte;
        struct iovec v = {&byte, 1};
        struct msghdr mh = {.msg_iov = &v,
                            .msg_iovlen = 1,
                            .msg_control = &control,
                            .msg_controllen = sizeof(control)};
        struct stat st;
        int mfd;

        assert_int_equal(recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC), 0);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        assert_non_null(c);
        assert_int_equal(c->cmsg_level, SOL_SOCKET);
        assert_int_equal(c->cmsg_type, SCM_RIGHTS);
        assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)));
        assert_null(CMSG_NXTHDR(&mh, c));
        memcpy(&mfd, CMSG_DATA(c), sizeof(int));
        assert_int_equal(fcntl(mfd, F_GET_SEALS),
                         F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);

        assert_int_equal(fstat(mfd, &st), 0);
        char *data = malloc((size_t) st.st_size + 1);
        assert_non_null(data);
        assert_int_equal(pread(mfd, data, (size_t) st.st_size, 0), st.st_size);
        close(mfd);
        *ret_len = (size_t) st.st_size;
        return data;
}

/* Both forms of the spec: NAME=value\n, and NAME\n, the length (64 bits,
 * little endian), value, \n for a value holding a newline; NULs, '=' and
 * high bytes pass as they are in either. */
static void wire_bytes_are_the_native_protocol(void **state) {
        (void) state;
        static const char nul[] = {'x', 0, 'y'}, nul_nl[] = {0, '\n', 0},
                          high[] = {(char) 0xff, (char) 0xc3, 0x28, (char) 0x80};
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = own_logger("wire.fields", h);
        int fd = socket_at_journal_path(), line;
        char *want;
        size_t want_len;
        FILE *f;

        line = __LINE__ + 1;
        trail_notice_with(lg,
                          TRAIL_FIELDS(TRAIL_STR("FOO", "BAR"), TRAIL_STR("BIN", "a\nb"),
                                       TRAIL_BYTES("NUL", nul, sizeof(nul)),
                                       TRAIL_BYTES("NUL_NL", nul_nl, sizeof(nul_nl)),
                                       TRAIL_BYTES("HIGH", high, sizeof(high)),
                                       TRAIL_STR("EMPTY", ""), TRAIL_STR("EQ", "=x="),
                                       TRAIL_STR("JUST_NL", "\n"), TRAIL_STR("NL_END", "z\n"),
                                       TRAIL_INT("NUM", -42), TRAIL_BOOL("YES", true)),
                          "plain %s", "message");
        assert_non_null(f = open_memstream(&want, &want_len));
        expect_own_fields(f, "plain message", TRAIL_NOTICE, "wire.fields", line, __func__);
        expect_str(f, "FOO", "BAR");
        expect_str(f, "BIN", "a\nb");
        expect_field(f, "NUL", nul, sizeof(nul));
        expect_field(f, "NUL_NL", nul_nl, sizeof(nul_nl));
        expect_field(f, "HIGH", high, sizeof(high));
        expect_str(f, "EMPTY", "");
        expect_str(f, "EQ", "=x=");
        expect_str(f, "JUST_NL", "\n");
        expect_str(f, "NL_END", "z\n");
        expect_str(f, "NUM", "-42");
        expect_str(f, "YES", "true");
        assert_int_equal(fclose(f), 0);
        assert_datagram(fd, want, want_len);
        free(want);

        /* a message of several lines is itself a length-prefixed field */
        line = __LINE__ + 1;
        trail_error(lg, "line one\nline two");
        assert_non_null(f = open_memstream(&want, &want_len));
        expect_own_fields(f, "line one\nline two", TRAIL_ERROR, "wire.fields", line, __func__);
        assert_int_equal(fclose(f), 0);
        assert_datagram(fd, want, want_len);
        free(want);

        assert_stats(h, 2, 0);
        close(fd);
        drop_logger(lg, h);
}

/* An entry past the send buffer goes as one sealed memfd holding the same
 * serialisation, its descriptor in an otherwise empty datagram. */
static void entry_past_the_send_buffer_is_one_sealed_memfd(void **state) {
        (void) state;
        size_t len = datagram_limit() + 1, want_len, got_len;
        char *v = every_byte(len), *want, *got;
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = own_logger("wire.memfd", h);
        int fd = socket_at_journal_path(), line;
        FILE *f;

        line = __LINE__ + 1;
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_BYTES("BIG", v, len), TRAIL_STR("AFTER", "x")),
                        "big");
        assert_non_null(f = open_memstream(&want, &want_len));
        expect_own_fields(f, "big", TRAIL_INFO, "wire.memfd", line, __func__);
        expect_field(f, "BIG", v, len);
        expect_str(f, "AFTER", "x");
        assert_int_equal(fclose(f), 0);

        got = receive_memfd(fd, &got_len);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        assert_stats(h, 1, 0);

        free(got);
        free(want);
        free(v);
        close(fd);
        drop_logger(lg, h);
}

/* Past IOV_MAX, one datagram still (no memfd): trail's fields, the call's
 * last fields that fit, and TRUNCATED_FIELDS=<left out>, last; every field
 * left out is counted in fields_dropped. */
static void record_past_iov_max_is_one_datagram_with_truncated_fields(void **state) {
        (void) state;
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = own_logger("wire.many", h);
        int fd = socket_at_journal_path();

        for (size_t c = 0; c < ELEMENTSOF(many_cases); c++) {
                const struct many_case *mc = &many_cases[c];
                const char *message = mc->message_nl ? "many\nfields" : "many fields";
                struct many m = many_new(mc->n, mc->nl_every, "WIRE_ID", "w");
                trail_stats before, after;
                size_t want_len;
                char *want;
                FILE *f;
                int line;

                assert_int_equal(trail_get_stats(&before), 0);
                line = __LINE__ + 1;
                trail_info_with(lg, ((trail_fields){m.f, m.n + 1}), "%s", message);
                assert_int_equal(trail_get_stats(&after), 0);
                assert_int_equal(after.fields_dropped - before.fields_dropped, mc->left_out);

                assert_non_null(f = open_memstream(&want, &want_len));
                expect_own_fields(f, message, TRAIL_INFO, "wire.many", line, __func__);
                for (size_t i = mc->left_out; i < m.n; i++) {
                        size_t len;
                        const char *v = many_value(&m, i, &len);
                        expect_field(f, m.names[i], v, len);
                }
                expect_str(f, "WIRE_ID", "w");
                if (mc->left_out > 0)
                        expect_num(f, "TRUNCATED_FIELDS", (long) mc->left_out);
                assert_int_equal(fclose(f), 0);
                assert_datagram(fd, want, want_len);
                free(want);
                many_free(&m);
        }
        assert_stats(h, ELEMENTSOF(many_cases), 0);
        close(fd);
        drop_logger(lg, h);
}

/* The handler's connection to journald is process-global and, once made,
 * kept: the socket path is looked at only while not connected
 * (lib/handler-journald.c). So each wire case runs in a child of its own,
 * forked before this process has ever connected (main() runs them before
 * the real-journald cases): the child starts unconnected, in a mount
 * namespace of its own with an empty tmpfs at the journal's directory, and
 * connects to the test's socket, whatever the case before it did. The
 * shared journald is untouched. Returns the child's cmocka result, 77 when
 * no namespace can be made (not root). */
static int run_in_namespace(const struct CMUnitTest *test) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return 1;
        if (pid == 0) {
                if (unshare(CLONE_NEWNS) < 0) {
                        fprintf(stderr, "unshare(CLONE_NEWNS): %m: skipped (needs root)\n");
                        _exit(77);
                }
                if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", JDIR, "tmpfs", 0, "mode=0755") < 0) {
                        fprintf(stderr, "cannot hide the journal socket: %m\n");
                        _exit(1);
                }
                if (trail_set_ident(IDENT) < 0 || trail_set_facility(FACILITY) < 0)
                        _exit(1);
                int r = _cmocka_run_group_tests(test->name, test, 1, NULL, NULL);
                trail_shutdown();
                exit(r); /* exit(), not _exit(): leak checkers run at exit */
        }
        if (waitpid(pid, &status, 0) != pid)
                return 1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* ---- Through the real journald ---------------------------------------------- */

/* Every byte value, in both wire forms: with its newlines (length-prefixed)
 * and without them (NAME=value, NULs and all), beside plain text. */
static void every_byte_value_round_trips(void **state) {
        (void) state;
        char id[33], all[256], no_nl[255];
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = own_logger("jsend.bytes", h);

        for (size_t i = 0, k = 0; i < 256; i++) {
                all[i] = (char) i;
                if (i != '\n')
                        no_nl[k++] = (char) i;
        }
        test_run_id(id);
        trail_warning_with(lg,
                           TRAIL_FIELDS(TRAIL_STR("JS_ID", id),
                                        TRAIL_BYTES("ALL", all, sizeof(all)),
                                        TRAIL_BYTES("NO_NL", no_nl, sizeof(no_nl)),
                                        TRAIL_STR("PLAIN", "a b=c\tü"), TRAIL_STR("EMPTY", ""),
                                        TRAIL_STR("JUST_NL", "\n")),
                           "line one\nline two");
        assert_stats(h, 1, 0);

        struct jentries es = journal_collect("JS_ID", id, 1, TIMEOUT_MS);
        assert_int_equal(es.n, 1);
        const struct jentry *e = &es.e[0];
        assert_value(e, "ALL", all, sizeof(all));
        assert_value(e, "NO_NL", no_nl, sizeof(no_nl));
        assert_value(e, "PLAIN", "a b=c\tü", strlen("a b=c\tü"));
        assert_value(e, "EMPTY", "", 0);
        assert_value(e, "JUST_NL", "\n", 1);
        assert_value(e, "MESSAGE", "line one\nline two", 17);
        assert_value(e, "PRIORITY", "4", 1);
        jentries_free(&es);
        drop_logger(lg, h);
}

/* Past the send buffer, the memfd (its bytes are entry_past_the_send_buffer_
 * is_one_sealed_memfd's): journald reads it whole, every byte value. */
static void entry_past_the_send_buffer_arrives_whole(void **state) {
        (void) state;
        size_t len = datagram_limit() + 64 * 1024;
        char id[33], *v = every_byte(len);
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = own_logger("jsend.large", h);

        test_run_id(id);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("JS_ID", id), TRAIL_BYTES("BIG", v, len)),
                        "%zu bytes", len);
        assert_stats(h, 1, 0);

        struct jentries es = journal_collect("JS_ID", id, 1, TIMEOUT_MS);
        assert_int_equal(es.n, 1);
        assert_value(&es.e[0], "BIG", v, len);
        jentries_free(&es);
        free(v);
        drop_logger(lg, h);
}

/* What journald stores of a record past IOV_MAX: exactly the call's last
 * fields, each once with its value, none of the others, and
 * TRUNCATED_FIELDS (absent when none was left out) equal to what
 * fields_dropped counted. */
static void record_past_iov_max_keeps_its_last_fields_and_counts_the_rest(void **state) {
        (void) state;
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = own_logger("jsend.many", h);

        for (size_t c = 0; c < ELEMENTSOF(many_cases); c++) {
                const struct many_case *mc = &many_cases[c];
                trail_stats before, after;
                size_t arrived = 0;
                char id[33];

                test_run_id(id);
                struct many m = many_new(mc->n, mc->nl_every, "JS_ID", id);
                assert_int_equal(trail_get_stats(&before), 0);
                trail_info_with(lg, ((trail_fields){m.f, m.n + 1}), "%s",
                                mc->message_nl ? "many\nfields" : "many fields");
                assert_int_equal(trail_get_stats(&after), 0);
                assert_int_equal(after.fields_dropped - before.fields_dropped, mc->left_out);

                struct jentries es = journal_collect("JS_ID", id, 1, TIMEOUT_MS);
                assert_int_equal(es.n, 1);
                const struct jentry *e = &es.e[0];
                for (size_t i = 0; i < e->n; i++)
                        arrived += e->f[i].name[0] == 'F' && e->f[i].name[1] >= '0' &&
                                   e->f[i].name[1] <= '9';
                assert_int_equal(arrived, m.n - mc->left_out);
                for (size_t i = mc->left_out; i < m.n; i++) {
                        size_t len;
                        const char *v = many_value(&m, i, &len);
                        assert_value(e, m.names[i], v, len);
                }
                if (mc->left_out > 0) {
                        char t[24];
                        assert_value(e, "TRUNCATED_FIELDS", t,
                                     (size_t) snprintf(t, sizeof(t), "%zu", mc->left_out));
                } else
                        assert_null(jentry_get(e, "TRUNCATED_FIELDS", NULL));
                assert_value(e, "JS_ID", id, 32);
                jentries_free(&es);
                many_free(&m);
        }
        assert_stats(h, ELEMENTSOF(many_cases), 0);
        drop_logger(lg, h);
}

int main(void) {
        const struct CMUnitTest wire[] = {
                cmocka_unit_test(wire_bytes_are_the_native_protocol),
                cmocka_unit_test(entry_past_the_send_buffer_is_one_sealed_memfd),
                cmocka_unit_test(record_past_iov_max_is_one_datagram_with_truncated_fields),
        };
        const struct CMUnitTest real[] = {
                cmocka_unit_test(every_byte_value_round_trips),
                cmocka_unit_test(entry_past_the_send_buffer_arrives_whole),
                cmocka_unit_test(record_past_iov_max_keeps_its_last_fields_and_counts_the_rest),
        };
        int r = 0;

        require_journald();
        setvbuf(stdout, NULL, _IONBF, 0); /* nothing buffered twice by fork() */
        /* first: this process must not have connected to journald yet */
        for (size_t i = 0; i < ELEMENTSOF(wire); i++) {
                int k = run_in_namespace(&wire[i]);
                if (k == 77)
                        return 77;
                r |= k;
        }
        r |= cmocka_run_group_tests_name("real journald", real, NULL, NULL);
        trail_shutdown();
        return r;
}
