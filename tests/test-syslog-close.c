/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream connection ends with a FIN that the receiver reads as the end of
 * the stream, not a reset: trail shuts its side down and takes what the
 * receiver sent and it never read (TLS session tickets, a receiver's
 * greeting) off the socket before it closes it (a close with unread data
 * makes the kernel send a reset: receivers log ECONNRESET, syslog-ng "SSL
 * unexpected eof"). The receiver is this test, on loopback. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"
#include "trail.h"

static void unread_data_does_not_turn_the_close_into_a_reset(void **state) {
        (void) state;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char target[64], buf[4096];

        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(l, 4), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *) &sa, &len), 0);
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));

        trail_handler *h = trail_handler_syslog(target);
        trail_logger *lg = logger_with("close.reset", h);
        trail_info(lg, "one record");
        assert_int_equal(trail_flush(), 0);
        int c = accept(l, NULL, NULL);
        assert_true(c >= 0);
        struct pollfd p = {.fd = c, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 10000), 1);
        assert_true(recv(c, buf, sizeof(buf), 0) > 0);
        /* the receiver says something trail does not read */
        static const char hello[] = "a receiver's bytes that the sender never reads";
        assert_int_equal(send(c, hello, sizeof(hello), MSG_NOSIGNAL), (ssize_t) sizeof(hello));
        usleep(100 * 1000);

        logger_without(lg, h);
        trail_shutdown(); /* closes every handler */

        assert_int_equal(poll(&p, 1, 10000), 1);
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n < 0)
                fail_msg("the receiver read %s, not the end of the stream", strerror(errno));
        assert_int_equal(n, 0);
        close(c);
        close(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(unread_data_does_not_turn_the_close_into_a_reset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
