/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A private syslog-ng for the syslog tests, beside rsyslog (rsyslog-util.h):
 * its files unpacked, not installed (its package conflicts with rsyslog's),
 * by scripts/setup-host.sh into SYSLOG_NG_ROOT; its config is
 * tests/conf/syslog-ng.conf (the one trail-fleet(7) shows) with the
 * temp dir and loopback ports filled in; its pid file, control socket and
 * persist file in the temp dir, its own log in syslog-ng.log there, and
 * every message it parses written as one JSON object per line. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SYSLOG_NG_ROOT "/opt/trail-test-syslog-ng"

struct syslog_ng {
        char dir[64];
        char out[128]; /* one JSON object per message */
        char log[128]; /* syslog-ng's own messages */
        char ca[128];  /* the test CA, for tls */
        int udp_port, tcp_port, tls_port;
        pid_t pid;
};

/* Exits 77 (skip) when SYSLOG_NG_ROOT holds no syslog-ng. 0 or -errno. */
int syslog_ng_start(struct syslog_ng *sn, const char *conf_template);
void syslog_ng_cleanup(struct syslog_ng *sn);

/* The messages whose structured data has RUN=run, in the order syslog-ng
 * wrote them, waiting up to timeout_ms for expected of them. Returns the
 * number found; *ret holds them (free with syslog_ng_messages_free). */
size_t syslog_ng_collect(struct syslog_ng *sn, const char *run, size_t expected, int timeout_ms,
                         json_object ***ret);
void syslog_ng_messages_free(json_object **m, size_t n);
/* A top-level value ("MESSAGE", "PRI", "MSGID", "PROGRAM", "PID", "DATE")
 * and an SD-PARAM of trail@32473. NULL when absent. */
const char *sn_get(json_object *m, const char *key);
const char *sn_param(json_object *m, const char *name);
/* How many SD-PARAMs the trail@32473 element of m has. */
size_t sn_n_params(json_object *m);
/* syslog-ng's own log so far (free it), or NULL. */
char *syslog_ng_log(struct syslog_ng *sn);
