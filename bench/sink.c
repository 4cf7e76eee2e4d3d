/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A loopback syslog receiver for the RFC 5424 rows: one thread that reads
 * UDP datagrams, or one TCP connection's octet-counted frames (RFC 6587
 * §3.4.1), and counts the messages. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sink.h"

struct sink {
        int fd;       /* bound UDP socket, or the listening TCP socket */
        bool tcp;
        int stop[2];  /* a pipe: readable when the thread must end */
        uint64_t count; /* atomic */
        pthread_t thread;
};

/* TCP: "LEN SP MSG", frame after frame, split anywhere by the stream. */
static void count_frames(struct sink *s, int conn) {
        char buf[65536];
        uint64_t skip = 0, len = 0;
        bool in_len = true;

        for (;;) {
                struct pollfd p[2] = { { conn, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
                if (poll(p, 2, -1) < 0 || (p[1].revents && !p[0].revents))
                        return;
                ssize_t n = read(conn, buf, sizeof(buf));
                if (n <= 0)
                        return;
                for (ssize_t i = 0; i < n;) {
                        if (skip > 0) {
                                uint64_t k = (uint64_t) (n - i) < skip ? (uint64_t) (n - i) : skip;
                                skip -= k;
                                i += (ssize_t) k;
                                if (skip == 0)
                                        __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
                                continue;
                        }
                        if (in_len && buf[i] >= '0' && buf[i] <= '9') {
                                len = len * 10 + (uint64_t) (buf[i] - '0');
                        } else if (buf[i] == ' ') {
                                skip = len;
                                len = 0;
                                if (skip == 0)
                                        __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
                        }
                        i++;
                }
        }
}

static void *sink_main(void *userdata) {
        struct sink *s = userdata;
        char buf[65536];

        if (s->tcp) {
                struct pollfd pl[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
                if (poll(pl, 2, -1) < 0 || !pl[0].revents)
                        return NULL;
                int conn = accept(s->fd, NULL, NULL);
                if (conn < 0)
                        return NULL;
                count_frames(s, conn);
                close(conn);
                return NULL;
        }
        for (;;) {
                struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
                if (poll(p, 2, -1) < 0 || (p[1].revents && !p[0].revents))
                        return NULL;
                if (recv(s->fd, buf, sizeof(buf), 0) > 0)
                        __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
        }
}

struct sink *sink_start(bool tcp, int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        struct sink *s = calloc(1, sizeof(*s));
        int rcvbuf = 8 << 20;

        if (!s)
                return NULL;
        s->tcp = tcp;
        s->fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
        if (s->fd < 0 || pipe(s->stop) < 0)
                goto fail;
        /* UDP has no flow control: a deep queue so the count shows loss, not a tiny buffer. */
        (void) setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (bind(s->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            getsockname(s->fd, (struct sockaddr *) &sa, &len) < 0 || (tcp && listen(s->fd, 1) < 0))
                goto fail;
        if (pthread_create(&s->thread, NULL, sink_main, s) != 0)
                goto fail;
        *ret_port = ntohs(sa.sin_port);
        return s;
fail:
        if (s->fd >= 0)
                close(s->fd);
        free(s);
        return NULL;
}

uint64_t sink_count(struct sink *s) {
        return __atomic_load_n(&s->count, __ATOMIC_RELAXED);
}

uint64_t sink_stop(struct sink *s, uint64_t want) {
        uint64_t n, last = 0;
        int still = 0;

        /* Wait for the last messages in flight: until all are in, or the count
         * has not moved for 300 ms. */
        while ((n = sink_count(s)) < want && still < 30) {
                still = n == last ? still + 1 : 0;
                last = n;
                usleep(10000);
        }
        (void) !write(s->stop[1], "x", 1);
        pthread_join(s->thread, NULL);
        close(s->fd);
        close(s->stop[0]);
        close(s->stop[1]);
        n = sink_count(s);
        free(s);
        return n;
}
