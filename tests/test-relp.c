/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RELP (relp:// and relp+tls://) against a private rsyslogd with imrelp:
 * 50 000 numbered records while the receiver is killed with SIGKILL twice
 * and restarted on the same port; every record arrives at least once, the
 * duplicates are at most what the handler counts as resent, none is lost.
 * And a receiver that is not there: calls return within the timeout, what
 * the buffer cannot hold is counted lost. Behind an async handler (batches
 * from its worker) every record arrives once. */

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <trail.h>

#include "test-util.h"

#define RECORDS 50000
#define WINDOW  128

struct relpd {
        char dir[64], out[128];
        int port;
        bool tls;
        pid_t pid;
};

static int free_port(void) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0), port;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

static void run(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

/* The collector: imrelp, written to a file before the answer goes back
 * (a direct queue: imrelp acknowledges once the action has run). This is
 * the configuration trail-fleet(7) shows: tests/conf/rsyslog-relp*.conf. */
static void relpd_config(struct relpd *d) {
        char path[256];
        FILE *in, *f;

        if (d->tls) {
                run("cd %s && "
                    "printf 'cn = trail test CA\\nca\\ncert_signing_key\\nexpiration_days = 2\\n' "
                    "> ca.tmpl && "
                    "printf 'cn = localhost\\ndns_name = localhost\\ntls_www_server\\n"
                    "encryption_key\\nsigning_key\\nexpiration_days = 2\\n' > server.tmpl && "
                    "certtool -q --generate-privkey --key-type=ecdsa --outfile ca-key.pem "
                    "2>/dev/null && "
                    "certtool -q --generate-self-signed --load-privkey ca-key.pem "
                    "--template ca.tmpl --outfile ca.pem 2>/dev/null && "
                    "certtool -q --generate-privkey --key-type=ecdsa --outfile server-key.pem "
                    "2>/dev/null && "
                    "certtool -q --generate-certificate --load-privkey server-key.pem "
                    "--load-ca-certificate ca.pem --load-ca-privkey ca-key.pem "
                    "--template server.tmpl --outfile server.pem 2>/dev/null && "
                    "printf 'cn = trail test client\\ntls_www_client\\nsigning_key\\n"
                    "expiration_days = 2\\n' > client.tmpl && "
                    "certtool -q --generate-privkey --key-type=ecdsa --outfile client-key.pem "
                    "2>/dev/null && "
                    "certtool -q --generate-certificate --load-privkey client-key.pem "
                    "--load-ca-certificate ca.pem --load-ca-privkey ca-key.pem "
                    "--template client.tmpl --outfile client.pem 2>/dev/null",
                    d->dir);
        }
        /* the template trail-fleet(7) shows, with @DIR@, @PORT@ and @OUT@
         * filled in */
        snprintf(path, sizeof(path), "%s/%s", TEST_CONF_DIR,
                 d->tls ? "rsyslog-relp-tls.conf" : "rsyslog-relp.conf");
        in = fopen(path, "r");
        assert_non_null(in);
        snprintf(path, sizeof(path), "%s/rsyslog.conf", d->dir);
        f = fopen(path, "w");
        assert_non_null(f);
        for (int c; (c = fgetc(in)) != EOF;) {
                char word[8] = "";
                if (c != '@') {
                        fputc(c, f);
                        continue;
                }
                for (size_t n = 0; n < sizeof(word) - 1 && (c = fgetc(in)) != EOF && c != '@';)
                        word[n++] = (char) c;
                if (strcmp(word, "DIR") == 0)
                        fputs(d->dir, f);
                else if (strcmp(word, "PORT") == 0)
                        fprintf(f, "%d", d->port);
                else if (strcmp(word, "OUT") == 0)
                        fputs(d->out, f);
                else
                        fail_msg("unknown placeholder @%s@ in %s", word, path);
        }
        fclose(in);
        fclose(f);
}

static void relpd_spawn(struct relpd *d) {
        char conf[128], pidfile[128];

        snprintf(conf, sizeof(conf), "%s/rsyslog.conf", d->dir);
        snprintf(pidfile, sizeof(pidfile), "%s/rsyslogd.pid", d->dir);
        d->pid = fork();
        assert_true(d->pid >= 0);
        if (d->pid == 0) {
                execl("/usr/sbin/rsyslogd", "rsyslogd", "-n", "-f", conf, "-i", pidfile,
                      (char *) NULL);
                _exit(127);
        }
        /* ready when the port takes a connection */
        for (uint64_t end = now_usec() + 20 * 1000000ULL;;) {
                struct sockaddr_in sa = {.sin_family = AF_INET,
                                         .sin_port = htons((uint16_t) d->port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                bool ok = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
                close(fd);
                if (ok)
                        return;
                if (waitpid(d->pid, NULL, WNOHANG) != 0 || now_usec() > end) {
                        /* it would hold the test's output open */
                        kill(d->pid, SIGKILL);
                        fail_msg("rsyslogd did not listen on %d", d->port);
                }
                usleep(20 * 1000);
        }
}

static void relpd_start(struct relpd *d, bool tls) {
        if (access("/usr/sbin/rsyslogd", X_OK) < 0 ||
            access("/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so", R_OK) < 0) {
                fprintf(stderr, "rsyslogd or imrelp is not installed: skipped\n");
                exit(77);
        }
        memset(d, 0, sizeof(*d));
        snprintf(d->dir, sizeof(d->dir), "/tmp/trail-relp-XXXXXX");
        assert_non_null(mkdtemp(d->dir));
        snprintf(d->out, sizeof(d->out), "%s/out", d->dir);
        d->port = free_port();
        d->tls = tls;
        relpd_config(d);
        relpd_spawn(d);
}

static void relpd_kill(struct relpd *d, int sig) {
        if (d->pid <= 0)
                return;
        kill(d->pid, sig);
        assert_int_equal(waitpid(d->pid, NULL, 0), d->pid);
        d->pid = 0;
}

static void relpd_cleanup(struct relpd *d) {
        relpd_kill(d, SIGTERM);
        if (!getenv("TRAIL_KEEP_RSYSLOG"))
                run("rm -rf %s", d->dir);
}

/* How often each record "<run> N" arrived; the total of lines of the run. */
static size_t count_arrivals(const struct relpd *d, const char *run, unsigned *seen, size_t n) {
        char line[256], prefix[64];
        size_t total = 0, plen = (size_t) snprintf(prefix, sizeof(prefix), "%s ", run);
        FILE *f = fopen(d->out, "r");

        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                const char *p = strstr(line, prefix);
                if (!p)
                        continue;
                unsigned long i = strtoul(p + plen, NULL, 10);
                if (i < n)
                        seen[i]++;
                total++;
        }
        fclose(f);
        return total;
}

/* the receiver of the running test, for the teardown after a failure */
static struct relpd cur;

static int teardown(void **state) {
        (void) state;
        if (cur.dir[0])
                relpd_cleanup(&cur);
        cur.dir[0] = 0;
        return 0;
}

static void survives_two_kills(bool tls) {
        char target[128], run_name[32];
        trail_handler *h;
        trail_logger *lg;
        trail_stats st;
        uint64_t worst = 0;
        unsigned *seen = calloc(RECORDS, sizeof(unsigned));

        assert_non_null(seen);
        relpd_start(&cur, tls);
        snprintf(target, sizeof(target), "%s://127.0.0.1:%d", tls ? "relp+tls" : "relp", cur.port);
        snprintf(run_name, sizeof(run_name), "relp%s-%d", tls ? "tls" : "", (int) getpid());
        h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "buffer", "32M"), 0);
        assert_int_equal(trail_handler_set(h, "window", "128"), 0);
        if (tls) {
                char ca[128];
                snprintf(ca, sizeof(ca), "%s/ca.pem", cur.dir);
                assert_int_equal(trail_handler_set(h, "ca", ca), 0);
                assert_int_equal(trail_handler_set(h, "server_name", "localhost"), 0);
                snprintf(ca, sizeof(ca), "%s/client.pem", cur.dir);
                assert_int_equal(trail_handler_set(h, "cert", ca), 0);
                snprintf(ca, sizeof(ca), "%s/client-key.pem", cur.dir);
                assert_int_equal(trail_handler_set(h, "key", ca), 0);
        }
        lg = logger_with(tls ? "relp.tls" : "relp.plain", h);

        for (int i = 0; i < RECORDS; i++) {
                if (i == RECORDS / 3 || i == 2 * RECORDS / 3) {
                        /* kill it mid-stream: records on the wire, in the
                         * window and in the buffer */
                        for (uint64_t end = now_usec() + 10 * 1000000ULL; now_usec() < end;) {
                                assert_int_equal(trail_handler_get_stats(h, &st), 0);
                                if (st.delivered + 2000 >= (uint64_t) i)
                                        break;
                                usleep(1000);
                        }
                        relpd_kill(&cur, SIGKILL);
                        relpd_spawn(&cur);
                }
                uint64_t t0 = now_usec();
                trail_info(lg, "%s %d", run_name, i);
                uint64_t dt = now_usec() - t0;
                if (dt > worst)
                        worst = dt;
        }
        /* everything acknowledged: flush until it says so (bounded) */
        int k = -ETIMEDOUT;
        for (uint64_t end = now_usec() + 30 * 1000000ULL; k < 0 && now_usec() < end;)
                k = trail_flush();
        assert_int_equal(k, 0);
        relpd_kill(&cur, SIGTERM);

        size_t total = count_arrivals(&cur, run_name, seen, RECORDS), missing = 0;
        for (int i = 0; i < RECORDS; i++)
                if (seen[i] == 0 && missing++ < 5)
                        fprintf(stderr, "record %d did not arrive\n", i);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        fprintf(stderr,
                "%s: %zu lines for %d records, %zu missing; delivered %" PRIu64 " lost %" PRIu64
                " resent %" PRIu64 "; slowest call %" PRIu64 " us\n",
                target, total, RECORDS, missing, st.delivered, st.lost, st.resent, worst);
        assert_int_equal(missing, 0);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.delivered, RECORDS);
        /* duplicates: at most what was sent again, which is at most a
         * window per broken session */
        assert_true(total - RECORDS <= st.resent);
        assert_true(st.resent <= 2 * (WINDOW + 1));
        /* no call waited for the receiver (the timeout is 1 s) */
        assert_true(worst < 1000000 + 1000000);

        logger_without(lg, h);
        free(seen);
}

static void relp_survives_two_kills(void **state) {
        (void) state;
        survives_two_kills(false);
}

static void relp_tls_survives_two_kills(void **state) {
        (void) state;
        survives_two_kills(true);
}

/* Behind an async handler, whose worker hands a RELP handler batches of
 * the records waiting: each still goes through RELP's queue and its
 * sender thread, so every one arrives once and is counted delivered when
 * acknowledged. */
#define ASYNC_RECORDS 5000
static void relp_behind_async_delivers_every_record(void **state) {
        char target[128], run_name[32];
        unsigned seen[ASYNC_RECORDS] = {0};
        trail_stats st;
        (void) state;

        relpd_start(&cur, false);
        snprintf(target, sizeof(target), "relp://127.0.0.1:%d", cur.port);
        snprintf(run_name, sizeof(run_name), "relpasync-%d", (int) getpid());
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "buffer", "32M"), 0);
        trail_handler *a = trail_handler_async(h, 0, TRAIL_OVERFLOW_BLOCK);
        assert_non_null(a);
        trail_logger *lg = logger_with("relp.async", a);

        for (int i = 0; i < ASYNC_RECORDS; i++)
                trail_info(lg, "%s %d", run_name, i);
        int k = -ETIMEDOUT;
        for (uint64_t end = now_usec() + 30 * 1000000ULL; k < 0 && now_usec() < end;)
                k = trail_flush();
        assert_int_equal(k, 0);
        relpd_kill(&cur, SIGTERM);

        size_t total = count_arrivals(&cur, run_name, seen, ASYNC_RECORDS);
        for (int i = 0; i < ASYNC_RECORDS; i++)
                if (seen[i] != 1)
                        fail_msg("record %d arrived %u times", i, seen[i]);
        assert_int_equal(total, ASYNC_RECORDS);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.delivered, ASYNC_RECORDS);
        logger_without(lg, a);
        trail_handler_unref(h);
}

/* RELP over TLS checks the server's name by default: a certificate for
 * "localhost" is refused when "wrong.example" is expected. */
static void relp_tls_refuses_a_server_it_cannot_verify(void **state) {
        char target[128], path[128];
        trail_handler *h;
        trail_logger *lg;
        trail_stats st;
        unsigned seen[10] = {0};

        (void) state;
        relpd_start(&cur, true);
        snprintf(target, sizeof(target), "relp+tls://127.0.0.1:%d", cur.port);
        h = trail_handler_syslog(target);
        assert_non_null(h);
        snprintf(path, sizeof(path), "%s/ca.pem", cur.dir);
        assert_int_equal(trail_handler_set(h, "ca", path), 0);
        assert_int_equal(trail_handler_set(h, "server_name", "wrong.example"), 0);
        snprintf(path, sizeof(path), "%s/client.pem", cur.dir);
        assert_int_equal(trail_handler_set(h, "cert", path), 0);
        snprintf(path, sizeof(path), "%s/client-key.pem", cur.dir);
        assert_int_equal(trail_handler_set(h, "key", path), 0);
        lg = logger_with("relp.unverified", h);
        for (int i = 0; i < 10; i++)
                trail_info(lg, "unverified %d", i);
        assert_true(trail_flush() < 0);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, 0);
        relpd_kill(&cur, SIGTERM);
        assert_int_equal(count_arrivals(&cur, "unverified", seen, 10), 0);
        logger_without(lg, h);
}

/* Nothing listens: every call returns within the timeout, the records the
 * buffer cannot hold are counted lost, and a flush gives up in time. */
static void unreachable_receiver_costs_no_wait(void **state) {
        char target[64];
        trail_handler *h;
        trail_logger *lg;
        trail_stats st;
        uint64_t worst = 0, t0;

        (void) state;
        snprintf(target, sizeof(target), "relp://127.0.0.1:%d", free_port());
        h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "buffer", "64K"), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "200ms"), 0);
        lg = logger_with("relp.unreachable", h);
        for (int i = 0; i < 5000; i++) {
                t0 = now_usec();
                trail_info(lg, "unreachable %d", i);
                if (now_usec() - t0 > worst)
                        worst = now_usec() - t0;
        }
        t0 = now_usec();
        assert_true(trail_flush() < 0);
        uint64_t flush_usec = now_usec() - t0;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        fprintf(stderr,
                "unreachable: lost %" PRIu64 ", slowest call %" PRIu64 " us, flush %" PRIu64
                " us\n",
                st.lost, worst, flush_usec);
        assert_true(worst < 200000 + 1000000);
        assert_true(flush_usec < 200000 + 1000000);
        assert_int_equal(st.delivered, 0);
        /* 64 KiB holds a few hundred of these: the rest were dropped, counted */
        assert_true(st.lost > 4000);
        assert_true(st.lost < 5000);
        t0 = now_usec();
        logger_without(lg, h); /* the last reference: the sender thread stops */
        assert_true(now_usec() - t0 < 2 * (200000 + 1000000));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(unreachable_receiver_costs_no_wait),
                cmocka_unit_test_teardown(relp_survives_two_kills, teardown),
                cmocka_unit_test_teardown(relp_tls_survives_two_kills, teardown),
                cmocka_unit_test_teardown(relp_behind_async_delivers_every_record, teardown),
                cmocka_unit_test_teardown(relp_tls_refuses_a_server_it_cannot_verify, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
