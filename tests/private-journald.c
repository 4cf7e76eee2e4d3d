/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "private-journald.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

pid_t pj_pid = -1;

uint64_t pj_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

int pj_setup(void) {
        static const char *const dirs[] = {"/run/systemd/journal", PJ_DIR, "/var/log/journal"};
        struct stat st;

        if (access(PJ_JOURNALD, X_OK) < 0) {
                fprintf(stderr, PJ_JOURNALD " not found: skipped\n");
                return 77;
        }
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNS): %m: skipped (needs root)\n");
                return 77;
        }
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                if (stat(dirs[i], &st) < 0 && mkdir(dirs[i], 0755) < 0)
                        continue; /* journald does not use what cannot be there */
                if (mount("tmpfs", dirs[i], "tmpfs", 0, "mode=0755") < 0)
                        return -errno;
        }
        return 0;
}

int pj_start(void) {
        struct stat st;
        uint64_t deadline;

        pj_pid = fork();
        if (pj_pid < 0)
                return -errno;
        if (pj_pid == 0) {
                int null = open("/dev/null", O_RDWR);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(null, 0), dup2(null, 1), dup2(null, 2);
                execl(PJ_JOURNALD, PJ_JOURNALD, (char *) NULL);
                _exit(127);
        }
        /* a socket left by a killed journald does not count: journald
         * replaces it when it is ready */
        deadline = pj_now_usec() + 10000000;
        for (;;) {
                if (stat(PJ_SOCKET, &st) == 0) {
                        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = PJ_SOCKET};
                        int k = connect(fd, (struct sockaddr *) &sa, sizeof(sa));
                        close(fd);
                        if (k == 0)
                                return 0;
                }
                if (pj_now_usec() > deadline || waitpid(pj_pid, NULL, WNOHANG) == pj_pid)
                        return -ETIMEDOUT;
                usleep(10000); /* polling, bounded by the deadline above */
        }
}

void pj_kill(void) {
        if (pj_pid > 0) {
                kill(pj_pid, SIGKILL);
                waitpid(pj_pid, NULL, 0);
                pj_pid = -1;
        }
}

void pj_pause(void) {
        int status;
        if (pj_pid > 0 && kill(pj_pid, SIGSTOP) == 0)
                (void) waitpid(pj_pid, &status, WUNTRACED);
}

void pj_resume(void) {
        if (pj_pid > 0)
                kill(pj_pid, SIGCONT);
}

void pj_stop(void) {
        if (pj_pid > 0) {
                kill(pj_pid, SIGCONT); /* a stopped process does not act on SIGTERM */
                kill(pj_pid, SIGTERM);
                waitpid(pj_pid, NULL, 0);
                pj_pid = -1;
        }
}

static size_t read_matching(sd_journal *j, const char *match, const char *num_field, long **ret) {
        size_t n = 0, cap = 0, nf = strlen(num_field);
        long *v = NULL;
        const void *data;
        size_t len;

        sd_journal_flush_matches(j);
        if (sd_journal_add_match(j, match, 0) < 0)
                return 0;
        sd_journal_seek_head(j);
        while (sd_journal_next(j) > 0) {
                long x = -1;
                if (sd_journal_get_data(j, num_field, &data, &len) >= 0 && len > nf + 1)
                        x = strtol((const char *) data + nf + 1, NULL, 10);
                if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        v = realloc(v, cap * sizeof(*v));
                        if (!v)
                                abort();
                }
                v[n++] = x;
        }
        *ret = v;
        return n;
}

size_t pj_collect(const char *field, const char *value, const char *num_field, size_t expected,
                  int timeout_ms, long **ret) {
        uint64_t deadline = pj_now_usec() + (uint64_t) timeout_ms * 1000;
        sd_journal *j = NULL;
        char match[256];
        size_t n;

        *ret = NULL;
        snprintf(match, sizeof(match), "%s=%s", field, value);
        if (sd_journal_open_directory(&j, PJ_DIR, 0) < 0) {
                fprintf(stderr, "sd_journal_open_directory(" PJ_DIR ") failed\n");
                exit(1);
        }
        for (;;) {
                n = read_matching(j, match, num_field, ret);
                if (n >= expected || pj_now_usec() >= deadline)
                        break;
                free(*ret);
                *ret = NULL;
                sd_journal_wait(j, 100000);
        }
        sd_journal_close(j);
        return n;
}
