/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork() at any moment: 1000 children forked while threads of the parent
 * take every lock of the library (configuration, loggers, handler formats
 * and filters, redaction, identifier, global fields, the journald socket,
 * the dispatch slots, handlers being made and freed, the capture list, a
 * syslog connection, async queues). Each child takes each of those locks
 * again, logs through every handler type, flushes, and must exit within
 * CHILD_SECONDS with every record delivered.
 *
 * Not built with sanitizers: gcc 12's ASan runtime does not hold its
 * allocator's locks across fork() (a child forked while a thread was in
 * malloc hangs in its own first malloc, whatever the program), and TSan
 * kills a child of a threaded process that starts a thread. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "journal-util.h"
#include "test-util.h"

#define FORKS_DEFAULT 1000
#define MEDDLERS      4
#define CHILDREN      8
/* A hang is caught by this; a loaded machine's journald, which reads
 * /proc/PID/cmdline of every sender and waits while a big process forks,
 * can take seconds per record */
#define CHILD_SECONDS    120
#define JOURNALD_TIMEOUT "60s"

static atomic_bool stop;
static char dir[] = "/tmp/trail-fork-XXXXXX";
static char conf_path[PATH_MAX];
static atomic_ulong custom_emitted;
static int devnull = -1;
static trail_handler *quiet; /* a stream handler on /dev/null */

enum {
        H_JOURNALD,
        H_AUTO,
        H_STREAM,
        H_SYSLOG_UNIX,
        H_SYSLOG_TCP,
        H_ASYNC_JOURNALD,
        H_ASYNC_STREAM,
        H_CAPTURE,
        H_CUSTOM,
        H_MAX
};
static const char *const handler_names[H_MAX] = {
        "journald",       "auto",         "stream",  "syslog unix", "syslog tcp",
        "async journald", "async stream", "capture", "custom",
};
static trail_handler *handlers[H_MAX];
static trail_logger *all;

static int custom_emit(const trail_record *r, void *userdata) {
        (void) r;
        (void) userdata;
        atomic_fetch_add(&custom_emitted, 1);
        return 0;
}

static bool drop_debug(const trail_record *r, void *userdata) {
        (void) userdata;
        return trail_record_level(r) != TRAIL_DEBUG;
}

/* ---- Receivers that keep reading -------------------------------------------- */

static void *drain(void *arg) {
        int fd = (int) (intptr_t) arg;
        char buf[65536];
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        return NULL;
}

static void *accept_and_drain(void *arg) {
        int l = (int) (intptr_t) arg;
        for (;;) {
                int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        return NULL;
                pthread_t t;
                if (pthread_create(&t, NULL, drain, (void *) (intptr_t) c) == 0)
                        pthread_detach(t);
        }
}

static void start_thread(void *(*fn)(void *), void *arg) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
        pthread_detach(t);
}

/* ---- Every lock-taking call ------------------------------------------------- */

/* One round of every call that takes a lock of the library; i varies what
 * is asked. Used by the parent's threads and once by each child. */
static void take_every_lock(unsigned i) {
        char name[64];
        const char *redact[] = {"SECRET_A", i % 2 ? "SECRET_B" : "SECRET_C", NULL};

        /* configuration: the whole file, every lock under config's */
        if (i % 8 == 0)
                (void) trail_configure(conf_path);
        /* loggers */
        snprintf(name, sizeof(name), "fork.meddle.%u", i % 64);
        trail_logger *lg = trail_get(name);
        /* its records go to /dev/null, not to the journal the children use */
        (void) trail_logger_set_propagate(lg, false);
        (void) trail_logger_add_handler(lg, quiet);
        (void) trail_logger_set_level(lg, i % 2 ? TRAIL_DEBUG : TRAIL_INFO);
        (void) trail_logger_add_handler(lg, handlers[H_CAPTURE]);
        (void) trail_logger_add_filter(lg, drop_debug, NULL);
        (void) trail_logger_remove_filter(lg, drop_debug, NULL);
        (void) trail_logger_remove_handler(lg, handlers[H_CAPTURE]);
        /* handler formats and filters */
        (void) trail_handler_set(handlers[H_STREAM], "format", i % 2 ? "json" : "text");
        (void) trail_handler_add_filter(handlers[H_STREAM], drop_debug, NULL);
        (void) trail_handler_remove_filter(handlers[H_STREAM], drop_debug, NULL);
        /* redaction, settings, global fields */
        (void) trail_set_redact_fields(redact);
        (void) trail_add_redact_field("SECRET_D");
        (void) trail_set_ident(i % 2 ? "fork-a" : "fork-b");
        (void) trail_set_facility(i % 2 ? 3 : 16);
        (void) trail_set_global_fields(TRAIL_FIELDS(TRAIL_UINT("FORK_GEN", i)));
        /* handlers made and freed: the live list, the journald socket's
         * timeout. (A handler once on a logger lives until
         * trail_shutdown(): the logger's old handler lists keep it.) */
        trail_handler *j = trail_handler_journald();
        (void) trail_handler_set(j, "timeout", i % 2 ? "3s" : "4s");
        trail_handler_unref(j);
        trail_handler *nul = trail_handler_stream(devnull, "text");
        trail_handler *a = trail_handler_async(nul, 64, TRAIL_OVERFLOW_DROP_NEW);
        trail_handler_unref(nul);
        trail_handler_unref(a);
        trail_handler_unref(trail_handler_capture());
        trail_info(lg, "meddling %u", i);
        /* the capture list */
        (void) trail_capture_count(handlers[H_CAPTURE]);
        (void) trail_capture_find(handlers[H_CAPTURE], -1, "nothing such");
        if (i % 16 == 0)
                (void) trail_capture_clear(handlers[H_CAPTURE]);
        /* statistics walk every logger */
        trail_stats st;
        (void) trail_get_stats(&st);
}

static void *log_once(void *arg) {
        (void) arg;
        trail_info(all, "a new thread's first record: its dispatch slot");
        return NULL;
}

static void *meddler(void *arg) {
        unsigned no = (unsigned) (uintptr_t) arg;

        for (unsigned i = no; !atomic_load(&stop); i += MEDDLERS) {
                if (no == 0) {
                        /* records through every handler: the syslog
                         * connection's lock, the async queues */
                        TRAIL_SCOPE(TRAIL_UINT("MEDDLER", no));
                        trail_info(all, "parent record %u", i);
                        nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
                        if (i % 64 == 0) {
                                pthread_t t;
                                if (pthread_create(&t, NULL, log_once, NULL) == 0)
                                        pthread_join(t, NULL);
                        }
                } else
                        take_every_lock(i);
        }
        return NULL;
}

/* ---- The child ---------------------------------------------------------------- */

static uint64_t delivered(trail_handler *h) {
        trail_stats st;
        if (trail_handler_get_stats(h, &st) < 0)
                return 0;
        return st.delivered;
}

/* 0, or 10 + the handler that did not deliver, 2 when flush failed. */
static int child(unsigned i, const char *run) {
        uint64_t before[H_MAX];
        unsigned long custom_before = atomic_load(&custom_emitted);

        alarm(CHILD_SECONDS); /* a hang is a failure, not a stuck test */
        take_every_lock(i);
        /* take_every_lock() may have configured: the test's logger keeps
         * its handlers (the file does not name it) */
        for (int k = 0; k < H_MAX; k++)
                before[k] = delivered(handlers[k]);
        trail_notice_with(all, TRAIL_FIELDS(TRAIL_STR("FORK_RUN", run), TRAIL_UINT("CHILD", i)),
                          "child %u", i);
        if (trail_flush() != 0)
                return 2;
        for (int k = 0; k < H_MAX; k++) {
                if (k == H_CUSTOM ? atomic_load(&custom_emitted) != custom_before + 1
                                  : delivered(handlers[k]) != before[k] + 1) {
                        fprintf(stderr, "child %u: the %s handler did not deliver\n", i,
                                handler_names[k]);
                        return 10 + k;
                }
        }
        return 0;
}

static void a_child_forked_at_any_moment_logs_through_every_handler(void **state) {
        (void) state;
        int p[2], u, l;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t slen = sizeof(sin);
        char run[33], url[PATH_MAX + 16];
        pthread_t m[MEDDLERS];
        FILE *f;

        test_run_id(run);
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        assert_true(devnull >= 0);
        assert_non_null(mkdtemp(dir));
        snprintf(conf_path, sizeof(conf_path), "%s/trail.conf", dir);
        f = fopen(conf_path, "w");
        assert_non_null(f);
        fputs("[trail]\nlevel = info\nhandlers = journal\nfields = FORK_CONF=1\n"
              "[logger fork.conf]\nlevel = debug\nhandlers = journal\n"
              "[handler journal]\ntype = journald\n",
              f);
        assert_int_equal(fclose(f), 0);

        quiet = trail_handler_stream(devnull, "text");
        assert_non_null(quiet);

        /* the receivers */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        start_thread(drain, (void *) (intptr_t) p[0]);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
        u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(u, (struct sockaddr *) &sa, sizeof(sa)), 0);
        start_thread(drain, (void *) (intptr_t) u);
        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(l, (struct sockaddr *) &sin, sizeof(sin)), 0);
        assert_int_equal(listen(l, 64), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *) &sin, &slen), 0);
        start_thread(accept_and_drain, (void *) (intptr_t) l);

        /* every handler type on one logger */
        static const trail_handler_vtable vt = {.emit = custom_emit};
        handlers[H_JOURNALD] = trail_handler_journald();
        handlers[H_AUTO] = trail_handler_auto();
        handlers[H_STREAM] = trail_handler_stream(p[1], "text");
        snprintf(url, sizeof(url), "unix:%s", sa.sun_path);
        handlers[H_SYSLOG_UNIX] = trail_handler_syslog(url);
        snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", ntohs(sin.sin_port));
        handlers[H_SYSLOG_TCP] = trail_handler_syslog(url);
        trail_handler *inner_j = trail_handler_journald();
        assert_int_equal(trail_handler_set(inner_j, "timeout", JOURNALD_TIMEOUT), 0);
        trail_handler *inner_s = trail_handler_stream(p[1], "json");
        handlers[H_ASYNC_JOURNALD] = trail_handler_async(inner_j, 1024, TRAIL_OVERFLOW_BLOCK);
        handlers[H_ASYNC_STREAM] = trail_handler_async(inner_s, 1024, TRAIL_OVERFLOW_BLOCK);
        trail_handler_unref(inner_j);
        trail_handler_unref(inner_s);
        handlers[H_CAPTURE] = trail_handler_capture();
        handlers[H_CUSTOM] = trail_handler_custom(&vt, NULL);
        assert_int_equal(trail_handler_set(handlers[H_JOURNALD], "timeout", JOURNALD_TIMEOUT), 0);
        assert_int_equal(trail_handler_set(handlers[H_AUTO], "timeout", JOURNALD_TIMEOUT), 0);
        all = trail_get("fork.all");
        for (int k = 0; k < H_MAX; k++) {
                assert_non_null(handlers[k]);
                assert_int_equal(trail_logger_add_handler(all, handlers[k]), 0);
        }
        assert_int_equal(trail_logger_set_propagate(all, false), 0);
        assert_int_equal(trail_logger_set_level(all, TRAIL_DEBUG), 0);

        for (unsigned k = 0; k < MEDDLERS; k++)
                assert_int_equal(pthread_create(&m[k], NULL, meddler, (void *) (uintptr_t) k), 0);

        unsigned failed = 0, forks = FORKS_DEFAULT;
        if (getenv("TEST_FORKS")) /* for a quicker run by hand */
                forks = (unsigned) atoi(getenv("TEST_FORKS"));
        /* CHILDREN at a time: a child mostly waits (for its records to be
         * delivered), so a loaded machine still gets through 1000 of them */
        unsigned started = 0, running = 0;
        while (started < forks || running > 0) {
                int status;
                if (started < forks && running < CHILDREN) {
                        unsigned i = started++;
                        pid_t pid = fork();
                        assert_true(pid >= 0);
                        if (pid == 0)
                                _exit(child(i, run));
                        running++;
                        continue;
                }
                pid_t pid = waitpid(-1, &status, 0);
                assert_true(pid > 0);
                running--;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "child pid %d %s %d\n", (int) pid,
                                WIFSIGNALED(status) ? "killed by signal" : "exited with",
                                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                        failed++;
                }
        }
        atomic_store(&stop, true);
        for (unsigned k = 0; k < MEDDLERS; k++)
                pthread_join(m[k], NULL);
        assert_int_equal(failed, 0);

        /* the children's records reached the real journal, through the
         * journald handler and its async twin, and the auto handler */
        struct jentries es = journal_collect("FORK_RUN", run, 3 * forks, 300000);
        assert_int_equal(es.n, 3 * forks);
        jentries_free(&es);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_child_forked_at_any_moment_logs_through_every_handler),
        };

        require_journald();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
