/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A private rsyslogd for the syslog tests: its own config, pid file and work
 * directory in a temp dir, loopback ports and a unix socket there, and every
 * message it parses written as one JSON line (mmpstrucdata turns the
 * structured data into JSON). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

struct rsyslog {
        char dir[64];
        char sock[128]; /* imuxsock, parser chain RFC 5424 then 3164 */
        char out[128];  /* one JSON object per message */
        char ca[128];   /* the test CA, for tls */
        char client_cert[128], client_key[128];
        int udp_port, tcp_port, tls_port;
        bool tls;
        pid_t pid;
};

/* Shared with syslog-ng-util.c: a free loopback port of the type
 * (SOCK_STREAM, SOCK_DGRAM); a test CA (ca.pem), a server certificate for
 * localhost and 127.0.0.1 (server.pem, server-key.pem) and a client one
 * (client.pem, client-key.pem) made in dir. */
int test_free_port(int type);
int test_make_certs(const char *dir);

/* Exits 77 (skip) when rsyslogd is not installed. Returns 0 or -errno. */
int rsyslog_start(struct rsyslog *rs, bool tls);
int rsyslog_stop(struct rsyslog *rs);
/* SIGKILL: the kernel closes its connections, a TLS one without close_notify. */
int rsyslog_kill(struct rsyslog *rs);
int rsyslog_restart(struct rsyslog *rs); /* same ports, same files */
int rsyslog_respawn(struct rsyslog *rs); /* after rsyslog_stop or rsyslog_kill */
void rsyslog_cleanup(struct rsyslog *rs);
/* rsyslog_restart(), then trail_flush() until trail has reconnected and
 * sent what its handlers held (up to 5 s). 0 or the last -errno. */
int rsyslog_back(struct rsyslog *rs);

/* The cmocka group fixtures group_setup() and group_teardown() of a test
 * file whose tests share one private rsyslogd, rs: started (with a TLS
 * listener when tls) before the first test, removed after the last. */
#define RSYSLOG_GROUP_FIXTURES(rs, tls)                                                            \
        static int group_setup(void **state) {                                                     \
                (void) state;                                                                      \
                int k_ = rsyslog_start(&(rs), (tls));                                              \
                if (k_ < 0)                                                                        \
                        fprintf(stderr, "rsyslog_start: %s\n", strerror(-k_));                     \
                return k_ < 0 ? -1 : 0;                                                            \
        }                                                                                          \
        static int group_teardown(void **state) {                                                  \
                (void) state;                                                                      \
                rsyslog_cleanup(&(rs));                                                            \
                return 0;                                                                          \
        }

/* The messages whose structured data has RUN=run, in the order rsyslog
 * wrote them, waiting up to timeout_ms for expected of them. Returns the
 * number found; *ret holds them (free with rsyslog_messages_free). */
size_t rsyslog_collect(struct rsyslog *rs, const char *run, size_t expected, int timeout_ms,
                       json_object ***ret);
void rsyslog_messages_free(json_object **m, size_t n);

/* The first message whose JSON line contains needle (for RFC 3164, which
 * has no structured data to match on), or NULL after timeout_ms. */
json_object *rsyslog_find_text(struct rsyslog *rs, const char *needle, int timeout_ms);

/* The LOST= of every LINK_LOST notice (TRAIL_MESSAGE_ID_LINK_LOST) rsyslog
 * wrote so far, in order, at most max of them. Returns how many. */
size_t rsyslog_link_lost(struct rsyslog *rs, uint64_t *out, size_t max);

/* Convenience accessors: a top-level string ("msg", "appname", …) and an
 * SD-PARAM of trail@32473. NULL when absent. */
const char *rs_get(json_object *m, const char *key);
const char *rs_param(json_object *m, const char *name);
/* Whether the SEQ params of m[0..n) are first, first+1, …; if not, says on
 * stderr which message is out of line. */
bool rs_seq_from(json_object **m, size_t n, int first);
