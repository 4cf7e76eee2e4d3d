/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "journal-util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

void test_run_id(char out[33]) {
        unsigned char b[16];
        static const char hex[] = "0123456789abcdef";

        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b)) {
                fprintf(stderr, "getrandom failed\n");
                exit(1);
        }
        for (size_t i = 0; i < sizeof(b); i++) {
                out[2 * i] = hex[b[i] >> 4];
                out[2 * i + 1] = hex[b[i] & 15];
        }
        out[32] = '\0';
}

void require_journald(void) {
        struct stat st;
        if (stat("/run/systemd/journal/socket", &st) < 0) {
                fprintf(stderr, "journald is not running: skipped\n");
                exit(77);
        }
}

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct jentries read_matching(sd_journal *j, const char *match) {
        struct jentries es = {0};
        const void *data;
        size_t len;

        sd_journal_flush_matches(j);
        if (sd_journal_add_match(j, match, 0) < 0)
                return es;
        sd_journal_seek_head(j);
        while (sd_journal_next(j) > 0) {
                struct jentry e = {0};
                sd_journal_restart_data(j);
                while (sd_journal_enumerate_data(j, &data, &len) > 0) {
                        const char *eq = memchr(data, '=', len);
                        if (!eq)
                                continue;
                        e.f = realloc(e.f, (e.n + 1) * sizeof(*e.f));
                        size_t nl = (size_t) (eq - (const char *) data);
                        e.f[e.n].name = strndup(data, nl);
                        e.f[e.n].len = len - nl - 1;
                        e.f[e.n].value = malloc(e.f[e.n].len + 1);
                        memcpy(e.f[e.n].value, eq + 1, e.f[e.n].len);
                        e.f[e.n].value[e.f[e.n].len] = '\0';
                        e.n++;
                }
                es.e = realloc(es.e, (es.n + 1) * sizeof(*es.e));
                es.e[es.n++] = e;
        }
        return es;
}

struct jentries journal_collect(const char *field, const char *value, size_t expected,
                                int timeout_ms) {
        struct jentries es = {0};
        sd_journal *j = NULL;
        char *match;
        long deadline = now_ms() + timeout_ms;

        if (asprintf(&match, "%s=%s", field, value) < 0)
                exit(1);
        if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY) < 0) {
                fprintf(stderr, "sd_journal_open failed\n");
                exit(1);
        }
        sd_journal_set_data_threshold(j, 0); /* whole values, however large */
        for (;;) {
                es = read_matching(j, match);
                if (es.n >= expected || now_ms() >= deadline)
                        break;
                jentries_free(&es);
                sd_journal_wait(j, 100000);
        }
        sd_journal_close(j);
        free(match);
        return es;
}

struct jentries journal_read_file(const char *path, const char *field, const char *value) {
        struct jentries es = {0};
        const char *paths[] = {path, NULL};
        sd_journal *j = NULL;
        char *match;

        if (asprintf(&match, "%s=%s", field, value) < 0)
                exit(1);
        if (sd_journal_open_files(&j, paths, 0) >= 0) {
                sd_journal_set_data_threshold(j, 0);
                es = read_matching(j, match);
                sd_journal_close(j);
        }
        free(match);
        return es;
}

void jentries_free(struct jentries *es) {
        for (size_t i = 0; i < es->n; i++) {
                for (size_t k = 0; k < es->e[i].n; k++) {
                        free(es->e[i].f[k].name);
                        free(es->e[i].f[k].value);
                }
                free(es->e[i].f);
        }
        free(es->e);
        *es = (struct jentries){0};
}

const char *jentry_get(const struct jentry *e, const char *name, size_t *ret_len) {
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->f[i].name, name) == 0) {
                        if (ret_len)
                                *ret_len = e->f[i].len;
                        return e->f[i].value;
                }
        return NULL;
}

size_t jentry_count(const struct jentry *e, const char *name) {
        size_t c = 0;
        for (size_t i = 0; i < e->n; i++)
                c += strcmp(e->f[i].name, name) == 0;
        return c;
}
