/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A name server that never answers cannot stall a logging call. The test
 * runs in a mount namespace of its own, where /etc/resolv.conf names a
 * "name server" of the test's own on a loopback address (it reads queries
 * and never answers), /etc/hosts lacks the test's name and nsswitch.conf
 * says "files dns": nothing leaves the machine. Calls through a syslog
 * handler to that name, from several threads, each return within the
 * handler's timeout plus a second; the records wait or are counted lost.
 * Then /etc/hosts learns the name, a private rsyslogd listens there, and
 * the records held arrive. A handler freed, and a child forked, while the
 * name is being resolved neither hang nor leak. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"

#define NAME "trail-test-receiver.invalid-test"
/* A loopback address of this run's own (127.1.x.y from the pid), so that two
 * runs at once do not take each other's name server port */
static char dns_addr[INET_ADDRSTRLEN];
#define TIMEOUT_USEC 500000
#define SLACK_USEC   1000000

static struct rsyslog rs;
static char dir[64] = "/tmp/trail-resolver-XXXXXX", hosts[128];
static int dns_fd = -1;

static void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we"); /* in place: the bind mount keeps the inode */
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void bind_over(const char *what, const char *name, const char *text) {
        char path[192];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        write_text(path, text);
        if (mount(path, what, NULL, MS_BIND, NULL) < 0) {
                fprintf(stderr, "bind %s over %s: %m\n", path, what);
                rsyslog_cleanup(&rs);
                exit(1);
        }
}

static void hosts_with(bool name) {
        char text[512], host[256] = "localhost";
        (void) gethostname(host, sizeof(host) - 1);
        /* the machine's own name resolves without the dead name server */
        snprintf(text, sizeof(text), "127.0.0.1 localhost\n127.0.1.1 %s\n%s", host,
                 name ? "127.0.0.1 " NAME "\n" : "");
        write_text(hosts, text);
}

/* The name server: a UDP socket that reads and never answers. */
static size_t dns_queries(void) {
        char buf[512];
        size_t n = 0;
        while (recv(dns_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                n++;
        return n;
}

/* The threads of this process: trail's resolvers among them. */
static int threads_running(void) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        int n = -1;

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "Threads:", 8) == 0)
                        n = atoi(line + 8);
        if (f)
                fclose(f);
        return n;
}

struct caller {
        trail_logger *lg;
        const char *run;
        int first;
        uint64_t worst;
};

static void *log_some(void *arg) {
        struct caller *c = arg;
        c->worst = log_numbered(c->lg, c->run, c->first, 10);
        return NULL;
}

static void a_dead_name_server_stalls_no_call(void **state) {
        (void) state;
        enum { THREADS = 4 };
        char target[128], run[33];
        pthread_t threads[THREADS];
        struct caller callers[THREADS];
        json_object **m = NULL;
        trail_stats st;
        uint64_t worst = 0;

        hosts_with(false);
        snprintf(target, sizeof(target), "tcp://%s:%d", NAME, rs.tcp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "timeout", "500ms"), 0);
        trail_logger *lg = logger_with("fault.resolver", h);
        test_run_id(run);

        for (int round = 0; round < 3; round++) {
                for (int i = 0; i < THREADS; i++) {
                        callers[i] = (struct caller){lg, run, (round * THREADS + i) * 10, 0};
                        assert_int_equal(pthread_create(&threads[i], NULL, log_some, &callers[i]),
                                         0);
                }
                for (int i = 0; i < THREADS; i++) {
                        assert_int_equal(pthread_join(threads[i], NULL), 0);
                        if (callers[i].worst > worst)
                                worst = callers[i].worst;
                }
        }
        print_message("slowest call while the name server is dead: %" PRIu64 " us\n", worst);
        assert_true(worst <= TIMEOUT_USEC + SLACK_USEC);
        uint64_t t0 = now_usec();
        assert_int_not_equal(trail_flush(), 0); /* nothing to send to yet */
        assert_true(now_usec() - t0 <= TIMEOUT_USEC + SLACK_USEC);
        assert_true(dns_queries() > 0); /* the name server was asked */
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 3 * THREADS * 10);
        assert_int_equal(st.delivered, 0);

        /* the name resolves now: the records held arrive */
        hosts_with(true);
        int k = -1;
        for (int tries = 0; tries < 300 && k < 0; tries++) {
                k = trail_flush();
                if (k < 0)
                        usleep(100 * 1000);
        }
        assert_int_equal(k, 0);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        size_t n = rsyslog_collect(&rs, run, st.delivered, 15000, &m);
        print_message("records %" PRIu64 ", delivered %" PRIu64 ", lost %" PRIu64 "\n", st.records,
                      st.delivered, st.lost);
        assert_int_equal(n, st.delivered);
        assert_int_equal(st.delivered + st.lost, st.records);
        assert_true(st.delivered > 0);
        rsyslog_messages_free(m, n);

        logger_without(lg, h);
}

/* Freed while its resolution is in flight: the resolver's thread finishes
 * on its own later (ASan and valgrind see no leak, no use after free). */
static void a_handler_freed_while_resolving_neither_hangs_nor_leaks(void **state) {
        (void) state;
        char target[128], run[33];

        hosts_with(false);
        snprintf(target, sizeof(target), "udp://%s:%d", NAME, rs.udp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "timeout", "100ms"), 0);
        trail_logger *lg = logger_with("fault.resolver.free", h);
        test_run_id(run);
        uint64_t worst = log_numbered(lg, run, 0, 3);
        assert_true(worst <= 100000 + SLACK_USEC);
        assert_handler_stats(h, 3, 0, 3, 0); /* datagrams: to stderr, counted failed */
        logger_without(lg, h);
}

/* A child forked while the parent's resolution is in flight does not wait
 * for a thread that does not exist in it: it logs within the timeout and
 * exits. (It starts a resolver of its own: under ThreadSanitizer this
 * needs TSAN_OPTIONS=die_after_fork=0, as scripts/test.sh sets.) */
static void a_child_forked_while_resolving_logs_and_exits(void **state) {
        (void) state;
        char target[128], run[33];
        int status;

        hosts_with(false);
        snprintf(target, sizeof(target), "tcp://%s:%d", NAME, rs.tcp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "timeout", "200ms"), 0);
        trail_logger *lg = logger_with("fault.resolver.fork", h);
        test_run_id(run);
        log_numbered(lg, run, 0, 1); /* a resolution starts, and hangs */

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                alarm(20);
                uint64_t worst = log_numbered(lg, run, 1, 5);
                (void) trail_flush();
                (void) trail_logger_remove_handler(lg, h);
                trail_handler_unref(h);
                trail_shutdown();
                _exit(worst <= 200000 + SLACK_USEC ? 0 : 3);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        logger_without(lg, h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_dead_name_server_stalls_no_call),
                cmocka_unit_test(a_handler_freed_while_resolving_neither_hangs_nor_leaks),
                cmocka_unit_test(a_child_forked_while_resolving_logs_and_exits),
        };
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
        char text[128];
        int k;

        /* a hang fails the test instead of stalling the suite */
        alarm(100);
        if (geteuid() != 0) {
                fprintf(stderr, "needs root: skipped\n");
                return 77;
        }
        /* rsyslog starts with the machine's resolver, before the namespace */
        k = rsyslog_start(&rs, false);
        if (k < 0) {
                fprintf(stderr, "rsyslog_start: %s\n", strerror(-k));
                return 1;
        }
        k = private_mount_namespace();
        if (k != 0) {
                rsyslog_cleanup(&rs);
                return k;
        }
        if (!mkdtemp(dir)) {
                rsyslog_cleanup(&rs);
                return 1;
        }
        snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
        hosts_with(false);
        if (mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0) {
                fprintf(stderr, "bind over /etc/hosts: %m\n");
                rsyslog_cleanup(&rs);
                return 1;
        }
        /* a resolver that waits long: 2 s a try, 2 tries */
        snprintf(dns_addr, sizeof(dns_addr), "127.1.%u.%u", (unsigned) (getpid() >> 8) & 0xff,
                 (unsigned) getpid() % 254 + 1);
        snprintf(text, sizeof(text), "nameserver %s\noptions timeout:2 attempts:2\n", dns_addr);
        bind_over("/etc/resolv.conf", "resolv.conf", text);
        bind_over("/etc/nsswitch.conf", "nsswitch.conf", "hosts: files dns\n");
        dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        inet_pton(AF_INET, dns_addr, &sa.sin_addr);
        if (dns_fd < 0 || bind(dns_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(stderr, "cannot bind %s:53: %m\n", dns_addr);
                rsyslog_cleanup(&rs); /* its rsyslogd would hold the test's output open */
                return 1;
        }

        stderr_capture();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        /* resolutions still waiting for the dead name server end with its
         * timeout; exiting before would leave glibc's resolver memory to
         * the leak checkers */
        for (int i = 0; i < 300 && threads_running() > 1; i++)
                usleep(100 * 1000);
        stderr_restore(r != 0);
        rsyslog_cleanup(&rs);
        snprintf(text, sizeof(text), "rm -rf %s", dir);
        (void) !system(text);
        return r;
}
