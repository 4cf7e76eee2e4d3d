/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A journald of the test's own, for fault tests that kill or stop it: the
 * process moves into a private mount namespace with tmpfs over the journal
 * directories, so the shared journald is never touched, and records are read
 * back from the private journal files with sd_journal_open_directory(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PJ_JOURNALD "/lib/systemd/systemd-journald"
#define PJ_SOCKET   "/run/systemd/journal/socket"
#define PJ_DIR      "/run/log/journal"

extern pid_t pj_pid;

/* Enters the private namespace. 0, 77 (skip: no journald binary, no root),
 * or a negative errno. */
int pj_setup(void);
/* Starts journald and waits for its socket; 0 or a negative errno. */
int pj_start(void);
/* SIGKILL and reap: journald dies without cleaning up (its socket stays). */
void pj_kill(void);
/* SIGSTOP / SIGCONT, waiting until the stop took effect. */
void pj_pause(void);
void pj_resume(void);
/* SIGCONT, SIGTERM, reap. */
void pj_stop(void);

uint64_t pj_now_usec(void);

/* The value of num_field (a number) of every entry of the private journal
 * with field=value, in journal order; waits up to timeout_ms for at least
 * expected of them. Returns how many; *ret is malloc'ed (free it). */
size_t pj_collect(const char *field, const char *value, const char *num_field, size_t expected,
                  int timeout_ms, long **ret);
