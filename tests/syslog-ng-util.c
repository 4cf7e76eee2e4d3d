/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsyslog-util.h"
#include "syslog-ng-util.h"

#define SBIN    SYSLOG_NG_ROOT "/usr/sbin/syslog-ng"
#define MODULES SYSLOG_NG_ROOT "/usr/lib/syslog-ng/3.38"
#define LIBS    SYSLOG_NG_ROOT "/usr/lib/x86_64-linux-gnu:" SYSLOG_NG_ROOT "/usr/lib/syslog-ng"

static char *read_all(const char *path) {
        FILE *f = fopen(path, "re");
        char *s = NULL;
        size_t n = 0;

        if (!f)
                return NULL;
        FILE *m = open_memstream(&s, &n);
        int c;
        while (m && (c = fgetc(f)) != EOF)
                fputc(c, m);
        if (m)
                fclose(m);
        fclose(f);
        return s;
}

/* The template with @DIR@ and the ports filled in. */
static int write_config(struct syslog_ng *sn, const char *template_path) {
        char *t = read_all(template_path), path[192];
        FILE *out;

        if (!t)
                return -errno;
        snprintf(path, sizeof(path), "%s/syslog-ng.conf", sn->dir);
        out = fopen(path, "we");
        if (!out) {
                free(t);
                return -errno;
        }
        for (const char *p = t; *p;) {
                char num[16];
                const char *with = NULL;
                size_t skip = 0;
                if (strncmp(p, "@DIR@", 5) == 0)
                        with = sn->dir, skip = 5;
                else if (strncmp(p, "@UDP_PORT@", 10) == 0)
                        snprintf(num, sizeof(num), "%d", sn->udp_port), with = num, skip = 10;
                else if (strncmp(p, "@TCP_PORT@", 10) == 0)
                        snprintf(num, sizeof(num), "%d", sn->tcp_port), with = num, skip = 10;
                else if (strncmp(p, "@TLS_PORT@", 10) == 0)
                        snprintf(num, sizeof(num), "%d", sn->tls_port), with = num, skip = 10;
                if (with) {
                        fputs(with, out);
                        p += skip;
                } else
                        fputc(*p++, out);
        }
        free(t);
        return fclose(out) == 0 ? 0 : -EIO;
}

/* Ready once it says it started (it opens every listener before). */
static int wait_ready(struct syslog_ng *sn) {
        for (int waited = 0; waited < 15000; waited += 20) {
                char *log = read_all(sn->log);
                bool up = log && strstr(log, "syslog-ng starting up");
                free(log);
                if (up)
                        return 0;
                if (waitpid(sn->pid, NULL, WNOHANG) == sn->pid) {
                        sn->pid = 0;
                        return -ECHILD;
                }
                usleep(20 * 1000);
        }
        return -ETIMEDOUT;
}

int syslog_ng_start(struct syslog_ng *sn, const char *conf_template) {
        char conf[192], pidfile[192], ctl[192], persist[192];
        int k;

        if (access(SBIN, X_OK) < 0) {
                fprintf(stderr, "%s is missing (scripts/setup-host.sh unpacks it): skipped\n",
                        SBIN);
                exit(77);
        }
        memset(sn, 0, sizeof(*sn));
        snprintf(sn->dir, sizeof(sn->dir), "/tmp/trail-syslog-ng-XXXXXX");
        if (!mkdtemp(sn->dir))
                return -errno;
        snprintf(sn->out, sizeof(sn->out), "%s/out.json", sn->dir);
        snprintf(sn->log, sizeof(sn->log), "%s/syslog-ng.log", sn->dir);
        snprintf(sn->ca, sizeof(sn->ca), "%s/ca.pem", sn->dir);
        sn->udp_port = test_free_port(SOCK_DGRAM);
        sn->tcp_port = test_free_port(SOCK_STREAM);
        sn->tls_port = test_free_port(SOCK_STREAM);
        if ((k = test_make_certs(sn->dir)) < 0 || (k = write_config(sn, conf_template)) < 0)
                return k;
        snprintf(conf, sizeof(conf), "%s/syslog-ng.conf", sn->dir);
        snprintf(pidfile, sizeof(pidfile), "%s/syslog-ng.pid", sn->dir);
        snprintf(ctl, sizeof(ctl), "%s/syslog-ng.ctl", sn->dir);
        snprintf(persist, sizeof(persist), "%s/syslog-ng.persist", sn->dir);
        sn->pid = fork();
        if (sn->pid < 0)
                return -errno;
        if (sn->pid == 0) {
                int fd = open(sn->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
                        _exit(127);
                setenv("LD_LIBRARY_PATH", LIBS, 1);
                execl(SBIN, "syslog-ng", "-F", "-e", "-f", conf, "--module-path=" MODULES, "-p",
                      pidfile, "-c", ctl, "-R", persist, (char *) NULL);
                _exit(127);
        }
        return wait_ready(sn);
}

void syslog_ng_cleanup(struct syslog_ng *sn) {
        char cmd[128];

        if (sn->pid > 0) {
                kill(sn->pid, SIGTERM);
                (void) waitpid(sn->pid, NULL, 0);
                sn->pid = 0;
        }
        if (sn->dir[0] && !getenv("TRAIL_KEEP_SYSLOG_NG")) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", sn->dir);
                (void) !system(cmd);
        }
}

const char *sn_get(json_object *m, const char *key) {
        json_object *v;
        return json_object_object_get_ex(m, key, &v) ? json_object_get_string(v) : NULL;
}

static json_object *element(json_object *m) {
        json_object *sd, *el;
        if (!json_object_object_get_ex(m, "_SDATA", &sd) ||
            !json_object_object_get_ex(sd, "trail@32473", &el))
                return NULL;
        return el;
}

const char *sn_param(json_object *m, const char *name) {
        json_object *el = element(m), *v;
        return el && json_object_object_get_ex(el, name, &v) ? json_object_get_string(v) : NULL;
}

size_t sn_n_params(json_object *m) {
        json_object *el = element(m);
        return el ? (size_t) json_object_object_length(el) : 0;
}

static size_t collect_once(struct syslog_ng *sn, const char *run, json_object ***ret) {
        FILE *f = fopen(sn->out, "re");
        json_object **m = NULL;
        size_t n = 0, cap = 0, len = 0;
        char *line = NULL;

        *ret = NULL;
        if (!f)
                return 0;
        while (getline(&line, &len, f) > 0) {
                json_object *o = json_tokener_parse(line);
                const char *r = o ? sn_param(o, "RUN") : NULL;
                if (!r || strcmp(r, run) != 0) {
                        json_object_put(o);
                        continue;
                }
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        m = realloc(m, cap * sizeof(*m));
                }
                m[n++] = o;
        }
        free(line);
        fclose(f);
        *ret = m;
        return n;
}

size_t syslog_ng_collect(struct syslog_ng *sn, const char *run, size_t expected, int timeout_ms,
                         json_object ***ret) {
        for (int waited = 0;; waited += 20) {
                size_t n = collect_once(sn, run, ret);
                if (n >= expected || waited > timeout_ms)
                        return n;
                syslog_ng_messages_free(*ret, n);
                usleep(20 * 1000);
        }
}

void syslog_ng_messages_free(json_object **m, size_t n) {
        for (size_t i = 0; i < n; i++)
                json_object_put(m[i]);
        free(m);
}

char *syslog_ng_log(struct syslog_ng *sn) {
        return read_all(sn->log);
}
