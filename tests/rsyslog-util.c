/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsyslog-util.h"
#include "trail.h"

int test_free_port(int type) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, type, 0), port = -1;

        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
            getsockname(fd, (struct sockaddr *) &sa, &len) == 0)
                port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

static int run(const char *cmd) {
        int k = system(cmd);
        return k == 0 ? 0 : -EIO;
}

static int write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

/* A CA, a server certificate for localhost and 127.0.0.1 signed by it, and
 * a client certificate, made with certtool. */
int test_make_certs(const char *dir) {
        char cmd[2048], path[192];

        snprintf(path, sizeof(path), "%s/ca.tmpl", dir);
        if (write_file(path, "cn = trail test CA\nca\ncert_signing_key\nexpiration_days = 2\n") < 0)
                return -EIO;
        snprintf(path, sizeof(path), "%s/server.tmpl", dir);
        if (write_file(path,
                       "cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n"
                       "tls_www_server\nencryption_key\nsigning_key\nexpiration_days = 2\n") < 0)
                return -EIO;
        snprintf(path, sizeof(path), "%s/client.tmpl", dir);
        if (write_file(
                    path,
                    "cn = trail test client\ntls_www_client\nsigning_key\nexpiration_days = 2\n") <
            0)
                return -EIO;
        snprintf(cmd, sizeof(cmd),
                 "cd %s && "
                 "certtool -q --generate-privkey --key-type=ecdsa --outfile ca-key.pem 2>/dev/null "
                 "&& "
                 "certtool -q --generate-self-signed --load-privkey ca-key.pem --template ca.tmpl "
                 "--outfile ca.pem 2>/dev/null && "
                 "certtool -q --generate-privkey --key-type=ecdsa --outfile server-key.pem "
                 "2>/dev/null && "
                 "certtool -q --generate-certificate --load-privkey server-key.pem "
                 "--load-ca-certificate ca.pem "
                 "--load-ca-privkey ca-key.pem --template server.tmpl --outfile server.pem "
                 "2>/dev/null && "
                 "certtool -q --generate-privkey --key-type=ecdsa --outfile client-key.pem "
                 "2>/dev/null && "
                 "certtool -q --generate-certificate --load-privkey client-key.pem "
                 "--load-ca-certificate ca.pem "
                 "--load-ca-privkey ca-key.pem --template client.tmpl --outfile client.pem "
                 "2>/dev/null",
                 dir);
        return run(cmd) < 0 ? -EIO : 0;
}

static int make_certs(struct rsyslog *rs) {
        if (test_make_certs(rs->dir) < 0)
                return -EIO;
        snprintf(rs->ca, sizeof(rs->ca), "%s/ca.pem", rs->dir);
        snprintf(rs->client_cert, sizeof(rs->client_cert), "%s/client.pem", rs->dir);
        snprintf(rs->client_key, sizeof(rs->client_key), "%s/client-key.pem", rs->dir);
        return 0;
}

static int write_config(struct rsyslog *rs) {
        char conf[4096], path[192], tls[512] = "";
        int n;

        char tls_global[512] = "";
        if (rs->tls)
                snprintf(tls_global, sizeof(tls_global),
                         "\n       defaultNetstreamDriverCAFile=\"%1$s/ca.pem\""
                         "\n       defaultNetstreamDriverCertFile=\"%1$s/server.pem\""
                         "\n       defaultNetstreamDriverKeyFile=\"%1$s/server-key.pem\"",
                         rs->dir);
        /* RFC 5425 on its own port: imtcp with the gtls driver */
        if (rs->tls)
                snprintf(tls, sizeof(tls),
                         "input(type=\"imtcp\" port=\"%d\" address=\"127.0.0.1\" name=\"tls\"\n"
                         "      streamDriver.name=\"gtls\" streamDriver.mode=\"1\"\n"
                         "      streamDriver.authMode=\"anon\")\n",
                         rs->tls_port);

        n = snprintf(
                conf, sizeof(conf),
                "global(workDirectory=\"%1$s\" maxMessageSize=\"256k\"\n"
                "       parser.escapeControlCharactersOnReceive=\"off\"%2$s)\n"
                "module(load=\"imudp\")\n"
                "module(load=\"imtcp\" maxSessions=\"64\")\n"
                "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
                "module(load=\"mmpstrucdata\")\n"
                "input(type=\"imudp\" port=\"%3$d\" address=\"127.0.0.1\")\n"
                "input(type=\"imtcp\" port=\"%4$d\" address=\"127.0.0.1\")\n"
                "input(type=\"imuxsock\" Socket=\"%5$s\" UseSpecialParser=\"off\"\n"
                "      ParseHostname=\"on\" UseSysTimeStamp=\"off\")\n"
                "%6$s"
                "template(name=\"ts\" type=\"string\" string=\"%%timereported:::date-rfc3339%%\")\n"
                "template(name=\"j\" type=\"string\" string=\"%%$!%%\\n\")\n"
                "action(type=\"mmpstrucdata\" sd_name.lowercase=\"off\")\n"
                "set $!severity = $syslogseverity;\n"
                "set $!facility = $syslogfacility;\n"
                "set $!appname = $app-name;\n"
                "set $!procid = $procid;\n"
                "set $!msgid = $msgid;\n"
                "set $!hostname = $hostname;\n"
                "set $!msg = $msg;\n"
                "set $!ts = exec_template(\"ts\");\n"
                "set $!inputname = $inputname;\n"
                "action(type=\"omfile\" file=\"%7$s\" template=\"j\")\n",
                rs->dir, tls_global, rs->udp_port, rs->tcp_port, rs->sock, tls, rs->out);
        if (n < 0 || (size_t) n >= sizeof(conf))
                return -E2BIG;
        snprintf(path, sizeof(path), "%s/rsyslog.conf", rs->dir);
        return write_file(path, conf);
}

static int wait_ready(struct rsyslog *rs) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct stat st;
                bool ok = stat(rs->sock, &st) == 0;
                int ports[2] = {rs->tcp_port, rs->tls ? rs->tls_port : 0};
                for (size_t i = 0; i < 2 && ok; i++) {
                        if (!ports[i])
                                continue;
                        struct sockaddr_in sa = {.sin_family = AF_INET,
                                                 .sin_port = htons((uint16_t) ports[i]),
                                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                        int fd = socket(AF_INET, SOCK_STREAM, 0);
                        ok = fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
                        if (fd >= 0)
                                close(fd);
                }
                if (ok)
                        return 0;
                if (waitpid(rs->pid, NULL, WNOHANG) == rs->pid) {
                        rs->pid = 0;
                        return -ECHILD;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec > 10)
                        return -ETIMEDOUT;
                usleep(20 * 1000);
        }
}

static int spawn(struct rsyslog *rs) {
        char conf[192], pidfile[192];

        snprintf(conf, sizeof(conf), "%s/rsyslog.conf", rs->dir);
        snprintf(pidfile, sizeof(pidfile), "%s/rsyslogd.pid", rs->dir);
        unlink(rs->sock);
        rs->pid = fork();
        if (rs->pid < 0)
                return -errno;
        if (rs->pid == 0) {
                execl("/usr/sbin/rsyslogd", "rsyslogd", "-n", "-f", conf, "-i", pidfile,
                      (char *) NULL);
                _exit(127);
        }
        return wait_ready(rs);
}

int rsyslog_start(struct rsyslog *rs, bool tls) {
        int k;

        if (access("/usr/sbin/rsyslogd", X_OK) < 0) {
                fprintf(stderr, "rsyslogd is not installed: skipped\n");
                exit(77);
        }
        memset(rs, 0, sizeof(*rs));
        snprintf(rs->dir, sizeof(rs->dir), "/tmp/trail-rsyslog-XXXXXX");
        if (!mkdtemp(rs->dir))
                return -errno;
        snprintf(rs->sock, sizeof(rs->sock), "%s/log.sock", rs->dir);
        snprintf(rs->out, sizeof(rs->out), "%s/out.json", rs->dir);
        rs->tls = tls;
        rs->udp_port = test_free_port(SOCK_DGRAM);
        rs->tcp_port = test_free_port(SOCK_STREAM);
        rs->tls_port = test_free_port(SOCK_STREAM);
        if (tls && (k = make_certs(rs)) < 0)
                return k;
        if ((k = write_config(rs)) < 0)
                return k;
        return spawn(rs);
}

int rsyslog_stop(struct rsyslog *rs) {
        int status;

        if (rs->pid <= 0)
                return 0;
        kill(rs->pid, SIGTERM);
        if (waitpid(rs->pid, &status, 0) < 0)
                return -errno;
        rs->pid = 0;
        return 0;
}

int rsyslog_kill(struct rsyslog *rs) {
        if (rs->pid <= 0)
                return 0;
        kill(rs->pid, SIGKILL);
        if (waitpid(rs->pid, NULL, 0) < 0)
                return -errno;
        rs->pid = 0;
        return 0;
}

int rsyslog_respawn(struct rsyslog *rs) {
        return rs->pid > 0 ? -EBUSY : spawn(rs);
}

int rsyslog_restart(struct rsyslog *rs) {
        int k = rsyslog_stop(rs);
        return k < 0 ? k : spawn(rs);
}

void rsyslog_cleanup(struct rsyslog *rs) {
        char cmd[128];

        (void) rsyslog_stop(rs);
        if (rs->dir[0] && !getenv("TRAIL_KEEP_RSYSLOG")) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", rs->dir);
                (void) !system(cmd);
        }
}

const char *rs_get(json_object *m, const char *key) {
        json_object *v;
        return json_object_object_get_ex(m, key, &v) ? json_object_get_string(v) : NULL;
}

const char *rs_param(json_object *m, const char *name) {
        json_object *sd, *el, *v;
        if (!json_object_object_get_ex(m, "rfc5424-sd", &sd) ||
            !json_object_object_get_ex(sd, "trail@32473", &el) ||
            !json_object_object_get_ex(el, name, &v))
                return NULL;
        return json_object_get_string(v);
}

static size_t collect_once(struct rsyslog *rs, const char *run, json_object ***ret) {
        FILE *f = fopen(rs->out, "re");
        json_object **m = NULL;
        size_t n = 0, cap = 0;
        char *line = NULL;
        size_t len = 0;

        if (!f)
                return 0;
        while (getline(&line, &len, f) > 0) {
                json_object *o = json_tokener_parse(line);
                const char *r = o ? rs_param(o, "RUN") : NULL;
                if (!r || strcmp(r, run) != 0) {
                        json_object_put(o);
                        continue;
                }
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        m = realloc(m, cap * sizeof(*m));
                }
                m[n++] = o;
        }
        free(line);
        fclose(f);
        *ret = m;
        return n;
}

size_t rsyslog_collect(struct rsyslog *rs, const char *run, size_t expected, int timeout_ms,
                       json_object ***ret) {
        struct timespec start, now;
        size_t n;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                n = collect_once(rs, run, ret);
                clock_gettime(CLOCK_MONOTONIC, &now);
                long ms = (now.tv_sec - start.tv_sec) * 1000 +
                          (now.tv_nsec - start.tv_nsec) / 1000000;
                if (n >= expected || ms > timeout_ms)
                        return n;
                rsyslog_messages_free(*ret, n);
                usleep(20 * 1000);
        }
}

bool rs_seq_from(json_object **m, size_t n, int first) {
        for (size_t i = 0; i < n; i++) {
                const char *seq = rs_param(m[i], "SEQ");
                char want[16];

                snprintf(want, sizeof(want), "%d", first + (int) i);
                if (!seq || strcmp(seq, want) != 0) {
                        fprintf(stderr, "message %zu: SEQ=%s, not %s\n", i, seq ? seq : "(none)",
                                want);
                        return false;
                }
        }
        return true;
}

void rsyslog_messages_free(json_object **m, size_t n) {
        for (size_t i = 0; i < n; i++)
                json_object_put(m[i]);
        free(m);
}

json_object *rsyslog_find_text(struct rsyslog *rs, const char *needle, int timeout_ms) {
        json_object *o = NULL;

        for (int waited = 0; !o && waited <= timeout_ms; waited += 20) {
                FILE *f = fopen(rs->out, "re");
                char *line = NULL;
                size_t len = 0;
                while (f && getline(&line, &len, f) > 0 && !o)
                        if (strstr(line, needle))
                                o = json_tokener_parse(line);
                free(line);
                if (f)
                        fclose(f);
                if (!o)
                        usleep(20 * 1000);
        }
        return o;
}

size_t rsyslog_link_lost(struct rsyslog *rs, uint64_t *out, size_t max) {
        FILE *f = fopen(rs->out, "re");
        char *line = NULL;
        size_t len = 0, n = 0;

        while (f && getline(&line, &len, f) > 0) {
                const char *p = strstr(line, "\"LOST\": \"");
                if (strstr(line, TRAIL_MESSAGE_ID_LINK_LOST) && p && n < max)
                        out[n++] = strtoull(p + 9, NULL, 10);
        }
        free(line);
        if (f)
                fclose(f);
        return n;
}

int rsyslog_back(struct rsyslog *rs) {
        int k = rsyslog_restart(rs);

        if (k < 0)
                return k;
        k = -1;
        for (int tries = 0; tries < 50 && k < 0; tries++) {
                k = trail_flush();
                if (k < 0)
                        usleep(100 * 1000);
        }
        return k;
}
